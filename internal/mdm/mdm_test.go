package mdm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/codexgov/codexgov/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden profile")

var sample = Profile{
	Identifier:   "com.codexgov.acme.eng",
	DisplayName:  "Codex policy eng v3",
	Description:  "Codex policy eng version 3 of workspace acme.",
	Organization: "Acme Corp",
	Requirements: "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\nallowed_approval_policies = [\"on-request\"]\n",
	Config:       "model = \"gpt-codexgov\"\n",
}

var uuidRE = regexp.MustCompile(`[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}`)

// The profile's structure is pinned; its UUIDs are new each time and are
// normalised for the comparison.
func TestGoldenProfile(t *testing.T) {
	data, err := Build(sample)
	if err != nil {
		t.Fatal(err)
	}
	uuids := uuidRE.FindAllString(string(data), -1)
	if len(uuids) != 2 || uuids[0] == uuids[1] {
		t.Fatalf("want two distinct version 4 UUIDs, got %q", uuids)
	}
	n := 0
	normal := uuidRE.ReplaceAllStringFunc(string(data), func(string) string { n++; return "UUID-" + string(rune('0'+n)) })
	golden := filepath.Join("testdata", "profile.mobileconfig")
	if *update {
		if err := os.WriteFile(golden, []byte(normal), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if normal != string(want) {
		t.Errorf("the profile differs from %s (run with -update and review the diff):\n%s", golden, normal)
	}
	again, _ := Build(sample)
	if bytes.Equal(again, data) {
		t.Errorf("two builds share UUIDs")
	}
}

func TestRoundTrip(t *testing.T) {
	data, err := Build(sample)
	if err != nil {
		t.Fatal(err)
	}
	// howett.net/plist reads it back as a generic property list...
	var generic map[string]any
	if _, err := plist.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	content := generic["PayloadContent"].([]any)[0].(map[string]any)
	if content["PayloadType"] != Domain || generic["PayloadScope"] != "System" || generic["PayloadType"] != "Configuration" {
		t.Errorf("structure: %v", generic)
	}
	for key, want := range map[string]string{RequirementsKey: sample.Requirements, ConfigKey: sample.Config} {
		b, err := base64.StdEncoding.DecodeString(content[key].(string))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q %v", key, b, err)
		}
	}
	// ...and Inspect decodes it.
	p, err := Inspect(data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Identifier != sample.Identifier || p.PayloadIdentifier != sample.Identifier+".codex" || p.Requirements != sample.Requirements ||
		p.Config != sample.Config || p.Signer != nil || !uuidRE.MatchString(p.UUID) || !uuidRE.MatchString(p.PayloadUUID) {
		t.Errorf("inspected: %+v", p)
	}
	// Without defaults the key is absent, not empty.
	noDefaults := sample
	noDefaults.Config = ""
	data, _ = Build(noDefaults)
	if strings.Contains(string(data), ConfigKey) {
		t.Errorf("an empty config_toml_base64 was written")
	}
	for _, bad := range []Profile{{Identifier: "acme", Requirements: "x = 1\n"}, {Identifier: "com.acme.codex"}} {
		if _, err := Build(bad); err == nil {
			t.Errorf("built %+v", bad)
		}
	}
}

// Python's plistlib, a parser we did not write, reads the same values.
func TestPythonPlistlibReadsIt(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3 not found: it checks the profile with a second plist parser")
	}
	data, _ := Build(sample)
	f := filepath.Join(t.TempDir(), "p.mobileconfig")
	os.WriteFile(f, data, 0o644)
	out, err := exec.Command(py, "-c", `import plistlib,sys,base64
p=plistlib.load(open(sys.argv[1],'rb'))
c=p['PayloadContent'][0]
sys.stdout.write(p['PayloadIdentifier']+'|'+c['PayloadType']+'|'+base64.b64decode(c['requirements_toml_base64']).decode()+'|'+base64.b64decode(c['config_toml_base64']).decode())`, f).CombinedOutput()
	if err != nil {
		t.Fatalf("plistlib: %v %s", err, out)
	}
	if want := sample.Identifier + "|" + Domain + "|" + sample.Requirements + "|" + sample.Config; string(out) != want {
		t.Errorf("plistlib read %q, want %q", out, want)
	}
}

func selfSigned(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Acme Profile Signing", Organization: []string{"Acme Corp"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, der
}

func TestSignedProfile(t *testing.T) {
	cert, key, der := selfSigned(t)
	data, _ := Build(sample)
	signed, err := Sign(data, cert, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Inspect(signed)
	if err != nil {
		t.Fatal(err)
	}
	if p.Signer == nil || p.Signer.Subject.CommonName != "Acme Profile Signing" || p.Requirements != sample.Requirements {
		t.Errorf("signed profile: %+v", p)
	}
	// A changed byte of the signed content is caught.
	i := bytes.Index(signed, []byte("Codex policy eng v3"))
	tampered := bytes.Clone(signed)
	tampered[i+len("Codex policy eng v")] = '4'
	if _, err := Inspect(tampered); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("tampered signed profile: %v", err)
	}
	// OpenSSL, a CMS implementation we did not write, verifies it against
	// the signing certificate and gets the profile back.
	ossl, err := exec.LookPath("openssl")
	if err != nil {
		testenv.Missing(t, "openssl not found: it checks the CMS signature independently")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "p.mobileconfig"), signed, 0o644)
	certPEM := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END CERTIFICATE-----\n"
	os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(certPEM), 0o644)
	out, err := exec.Command(ossl, "cms", "-verify", "-binary", "-inform", "DER", "-in", filepath.Join(dir, "p.mobileconfig"),
		"-CAfile", filepath.Join(dir, "ca.pem"), "-purpose", "any").CombinedOutput()
	if err != nil || !bytes.Contains(out, data) {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "t.mobileconfig"), tampered, 0o644)
	if out, err := exec.Command(ossl, "cms", "-verify", "-binary", "-inform", "DER", "-in", filepath.Join(dir, "t.mobileconfig"),
		"-CAfile", filepath.Join(dir, "ca.pem"), "-purpose", "any").CombinedOutput(); err == nil {
		t.Errorf("openssl verified the tampered profile:\n%s", out)
	}
}
