package testenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Rsyslog is a real rsyslogd (Debian's rsyslog and rsyslog-gnutls)
// receiving syslog over TLS (RFC 5425) on a loopback port and writing each
// message as "MSGID MSG" lines to a file.
type Rsyslog struct {
	Addr string
	Out  string
	cmd  *exec.Cmd
}

// StartRsyslog starts rsyslogd in the foreground with the certificate and
// key given, or skips (fails in CI) when it is not installed.
func StartRsyslog(t testing.TB, certFile, keyFile, caFile string) *Rsyslog {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		Missing(t, "rsyslogd is not installed (Debian: rsyslog rsyslog-gnutls; make test installs them)")
	}
	modDir := ""
	for _, d := range []string{"/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog", "/usr/lib64/rsyslog"} {
		if _, err := os.Stat(filepath.Join(d, "lmnsd_gtls.so")); err == nil {
			modDir = d
		}
	}
	if modDir == "" {
		Missing(t, "rsyslog's GnuTLS driver (lmnsd_gtls.so) is not installed (Debian: rsyslog-gnutls)")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &Rsyslog{Addr: fmt.Sprintf("127.0.0.1:%d", port), Out: filepath.Join(dir, "received.log")}
	conf := fmt.Sprintf(`global(workDirectory=%q maxMessageSize="1m"
  DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile=%q DefaultNetstreamDriverCertFile=%q DefaultNetstreamDriverKeyFile=%q)
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="%d")
template(name="raw" type="string" string="%%msgid%% %%msg%%\n")
action(type="omfile" file=%q template="raw" flushOnTXEnd="on" asyncWriting="off")
`, dir, caFile, certFile, keyFile, port, r.Out)
	confFile := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-N1", "-f", confFile, "-M", modDir).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd -N1 rejects the configuration: %v\n%s\n%s", err, out, conf)
	}
	var stderr strings.Builder
	r.cmd = exec.Command(bin, "-n", "-f", confFile, "-i", filepath.Join(dir, "rsyslogd.pid"), "-M", modDir)
	r.cmd.Stdout, r.cmd.Stderr = &stderr, &stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not listen on %s within 10 s: %s", r.Addr, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Lines returns the messages received so far, each "MSGID MSG".
func (r *Rsyslog) Lines(ctx context.Context) []string {
	f, err := os.Open(r.Out)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
