package testenv

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Keyring starts a private D-Bus session bus and an unlocked
// gnome-keyring Secret Service on it, as Codex's OAuth sign-in to a
// configuration server needs on Linux, and returns the environment that
// points Codex at it. Both stop when the test ends.
func Keyring(t testing.TB) []string {
	t.Helper()
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			Missing(t, "%s not found: `make keyring` installs gnome-keyring and dbus", bin)
		}
	}
	dir, err := os.MkdirTemp("", "codexgov-keyring-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bus := "unix:path=" + filepath.Join(dir, "bus")
	ctx, cancel := context.WithCancel(context.Background())
	dbus := exec.CommandContext(ctx, "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+bus, "--print-address=1")
	out, err := dbus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dbus.Start(); err != nil {
		cancel()
		t.Fatalf("start dbus-daemon: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		if bufio.NewScanner(out).Scan() {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("dbus-daemon did not start")
	}
	env := []string{"DBUS_SESSION_BUS_ADDRESS=" + bus, "HOME=" + dir, "XDG_RUNTIME_DIR=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	kr := exec.CommandContext(ctx, "gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	kr.Env = append(os.Environ(), env...)
	// gnome-keyring creates the login collection only for a non-empty
	// password.
	kr.Stdin = strings.NewReader("codexgov-test")
	if err := kr.Start(); err != nil {
		cancel()
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		kr.Wait()
		dbus.Wait()
	})
	// The Secret Service is up once its name is on the bus.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		cmd.Env = append(os.Environ(), env...)
		b, _ := cmd.Output()
		if strings.Contains(string(b), "boolean true") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gnome-keyring's Secret Service did not appear on the bus: %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return env[:1]
}
