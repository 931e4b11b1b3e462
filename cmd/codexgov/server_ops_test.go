package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// TestBackupRestoreRoundTrip: a backup taken while the server runs,
// restored into a fresh folder, serves the same policy signed by the same
// key, and the admin key still works.
func TestBackupRestoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srvURL, key := startServer(t, &Main{DataDir: data})
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	req := filepath.Join(dir, "req.toml")
	os.WriteFile(req, []byte(strictTOML), 0o644)
	admin.run(0, "policies", "put", "p", "--requirements", req)
	var before codexgov.PolicyVersion
	admin.json(&before, "policies", "get", "p")
	jwksBefore, _ := admin.run(0, "signing-keys", "list", "--json")

	backup := filepath.Join(dir, "backup")
	if out, errOut, code := runCLI(t, "server", "backup", backup, "--data-dir", data); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "server", "backup", backup, "--data-dir", data); code != 1 || !strings.Contains(errOut, "not empty") {
		t.Errorf("a second backup into the same folder: exit %d, %s", code, errOut)
	}
	fresh := filepath.Join(dir, "restored")
	if out, errOut, code := runCLI(t, "server", "restore", backup, "--data-dir", fresh); code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "server", "restore", backup, "--data-dir", fresh); code != 1 || !strings.Contains(errOut, "already holds") {
		t.Errorf("a restore over data: exit %d, %s", code, errOut)
	}
	srv2, _ := startServer(t, &Main{DataDir: fresh})
	admin2 := cli{t: t, server: srv2, token: key, ws: "acme"}
	var after codexgov.PolicyVersion
	admin2.json(&after, "policies", "get", "p")
	if after.Hash != before.Hash || after.Requirements != strictTOML {
		t.Errorf("restored policy %+v, want %+v", after, before)
	}
	if jwksAfter, _ := admin2.run(0, "signing-keys", "list", "--json"); jwksAfter != jwksBefore {
		t.Errorf("signing keys differ after restore:\n%s\n%s", jwksBefore, jwksAfter)
	}
	// Without its key the restored database is refused, and no key is made.
	os.Remove(filepath.Join(fresh, "master.key"))
	m := &Main{DataDir: fresh, Listen: "127.0.0.1:0"}
	err := m.Run(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "master key") || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("start without master.key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(fresh, "master.key")); !os.IsNotExist(err) {
		t.Errorf("a new master key was written: %v", err)
	}
}

// TestRotateAdminKey: the old server admin key stops working, the new one
// works, and the change is audited.
func TestRotateAdminKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srvURL, key := startServer(t, &Main{DataDir: data})
	out, errOut, code := runCLI(t, "server", "rotate-admin-key", "--data-dir", data)
	newKey := adminKeyRE.FindString(out)
	if code != 0 || newKey == "" || newKey == key {
		t.Fatalf("rotate-admin-key: exit %d\n%s%s", code, out, errOut)
	}
	// The running server refuses the old key after it syncs.
	old := cli{t: t, server: srvURL, token: key}
	waitFor(t, func() bool {
		_, _, code := old.runIn("", "workspaces", "list")
		return code == 1
	})
	cli{t: t, server: srvURL, token: newKey}.run(0, "workspaces", "list")
}

// TestServerBindsBeforeCreatingData: a port already taken stops the server
// before it makes a data folder or a key.
func TestServerBindsBeforeCreatingData(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	_, errOut, code := runCLI(t, "server", "--listen", ln.Addr().String(), "--data-dir", data)
	if code != 1 || !strings.Contains(errOut, "address already in use") {
		t.Errorf("exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data folder was created: %v", err)
	}
}

// waitFor polls ok for up to 20 s (replicas converge on --sync-interval).
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not reached in 20 s")
}
