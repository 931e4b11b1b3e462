package telemetry

import (
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// FuzzNormalize feeds OTLP logs requests, protobuf and JSON, seeded with
// the captured Codex batches and mutated, through decoding, normalisation
// and bypass detection: nothing may panic, and what would be stored is
// valid UTF-8 without NUL, with an ID. (`make fuzz` runs it with
// -fuzzminimizetime 0: minimising the large captured seeds would take the
// whole run.)
func FuzzNormalize(f *testing.F) {
	for _, name := range []string{"otlp-logs-0001.pb", "otlp-logs-0005.pb", "otlp-logs-batch1.json", "otlp-logs-batch2.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, name[len(name)-3:] == ".pb")
	}
	policy := PolicyOf(`[rules]
prefix_rules = [{ pattern = [{ token = "rm" }], decision = "forbidden" }]
`)
	f.Fuzz(func(t *testing.T, body []byte, proto bool) {
		req := plogotlp.NewExportRequest()
		var err error
		if proto {
			err = req.UnmarshalProto(body)
		} else {
			err = req.UnmarshalJSON(body)
		}
		if err != nil {
			return
		}
		evs := Normalize(req.Logs(), Sender{Workspace: "w", Identity: "user:a@b.c", Credential: "c"}, time.Unix(0, 0))
		evs = append(evs, Bypasses(evs, policy)...)
		for _, e := range evs {
			if e.ID == "" {
				t.Fatal("an event without an ID")
			}
			for _, s := range []string{e.Name, e.Session, e.Surface, e.Model, e.Host, e.ClaimEmail} {
				if !utf8.ValidString(s) {
					t.Fatalf("not valid UTF-8: %q", s)
				}
				for i := 0; i < len(s); i++ {
					if s[i] == 0 {
						t.Fatalf("a NUL in %q", s)
					}
				}
			}
		}
	})
}
