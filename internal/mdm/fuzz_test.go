package mdm

import (
	"testing"
)

// FuzzInspect: any bytes (a plist, a CMS envelope, garbage) give a profile
// or an error, never a panic; documents read back build into a profile
// that reads back the same.
func FuzzInspect(f *testing.F) {
	data, _ := Build(sample)
	f.Add(data)
	f.Add([]byte{0x30, 0x80, 0x06, 0x09})
	f.Add([]byte(`<plist><dict><key>PayloadType</key><string>Configuration</string></dict></plist>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Inspect(b)
		if err != nil {
			return
		}
		if p.Requirements == "" && p.Config == "" {
			return
		}
		again, err := Build(Profile{Identifier: "com.example.codex", Requirements: p.Requirements, Config: p.Config})
		if err != nil {
			return // text no TOML document can be (control characters), refused
		}
		q, err := Inspect(again)
		if err != nil || q.Requirements != p.Requirements || q.Config != p.Config {
			t.Fatalf("round trip changed the documents: %v", err)
		}
	})
}
