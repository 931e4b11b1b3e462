// Package atomicfile replaces files so that a reader, or a process killed
// at any moment, sees the old content or the new, never a part: a
// temporary file in the same folder, fsync, rename, fsync of the folder.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempMarker is in the name of every temporary file, so that one left by
// a killed process is recognised and removed (CleanTemp).
const tempMarker = ".codexgov-tmp-"

// Options say how a file is written.
type Options struct {
	Mode fs.FileMode
	// Root makes root the owner (uid 0, gid 0) when the process runs as
	// root; otherwise the file keeps the process's owner.
	Root bool
	// Backup keeps the previous content, when it differs, as
	// path.codexgov-backup.
	Backup bool
}

// Write replaces path with data and reports the backup it kept ("" for
// none).
func Write(path string, data []byte, o Options) (backup string, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if o.Backup {
		old, err := os.ReadFile(path)
		switch {
		case err == nil && string(old) != string(data):
			backup = path + ".codexgov-backup"
			if _, err := Write(backup, old, Options{Mode: o.Mode, Root: o.Root}); err != nil {
				return "", err
			}
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMarker+"*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	err = fill(tmp, data, o)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return backup, SyncDir(dir)
}

func fill(f *os.File, data []byte, o Options) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(o.Mode); err != nil {
		return err
	}
	if o.Root && os.Geteuid() == 0 {
		if err := f.Chown(0, 0); err != nil {
			return err
		}
	}
	return f.Sync()
}

// SyncDir makes a folder's entries (a rename) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// CleanTemp removes the temporary files a killed writer left in dir and
// returns their names.
func CleanTemp(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), tempMarker) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, err
			}
			removed = append(removed, e.Name())
		}
	}
	return removed, nil
}
