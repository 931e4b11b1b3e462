// Package mdm writes and reads the macOS configuration profiles
// (.mobileconfig) that deliver a Codex policy through MDM (Jamf, Kandji,
// Fleet): one payload in the com.openai.codex preference domain with
// requirements_toml_base64 (enforced requirements, the highest layer
// Codex reads) and config_toml_base64 (managed defaults, read as the
// legacy managed_config.toml). A profile may be signed (CMS SignedData).
package mdm

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"
)

// Domain is the preference domain Codex reads on macOS.
const Domain = "com.openai.codex"

// The payload keys Codex reads.
const (
	RequirementsKey = "requirements_toml_base64"
	ConfigKey       = "config_toml_base64"
)

// Profile is a configuration profile with one Codex payload.
type Profile struct {
	// Identifier is the profile's reverse-DNS PayloadIdentifier; an MDM
	// replaces an installed profile with the same identifier.
	Identifier   string
	DisplayName  string
	Description  string
	Organization string
	// UUID and PayloadUUID are the profile's and the payload's; new ones
	// are made when empty.
	UUID, PayloadUUID string
	// Requirements is the requirements.toml text (requirements_toml_base64).
	Requirements string
	// Config is the managed defaults (config_toml_base64); omitted when
	// empty.
	Config string
}

// profile is the top level of a .mobileconfig.
type profile struct {
	PayloadContent           []payload `plist:"PayloadContent"`
	PayloadDescription       string    `plist:"PayloadDescription,omitempty"`
	PayloadDisplayName       string    `plist:"PayloadDisplayName"`
	PayloadIdentifier        string    `plist:"PayloadIdentifier"`
	PayloadOrganization      string    `plist:"PayloadOrganization,omitempty"`
	PayloadRemovalDisallowed bool      `plist:"PayloadRemovalDisallowed"`
	PayloadScope             string    `plist:"PayloadScope"`
	PayloadType              string    `plist:"PayloadType"`
	PayloadUUID              string    `plist:"PayloadUUID"`
	PayloadVersion           int       `plist:"PayloadVersion"`
}

type payload struct {
	PayloadDisplayName string `plist:"PayloadDisplayName"`
	PayloadIdentifier  string `plist:"PayloadIdentifier"`
	PayloadType        string `plist:"PayloadType"`
	PayloadUUID        string `plist:"PayloadUUID"`
	PayloadVersion     int    `plist:"PayloadVersion"`
	Requirements       string `plist:"requirements_toml_base64,omitempty"`
	Config             string `plist:"config_toml_base64,omitempty"`
}

var identifierRE = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

// Build writes the profile as an XML property list.
func Build(p Profile) ([]byte, error) {
	if !identifierRE.MatchString(p.Identifier) {
		return nil, fmt.Errorf("identifier %q: want reverse-DNS form such as com.example.codex", p.Identifier)
	}
	if strings.TrimSpace(p.Requirements) == "" && strings.TrimSpace(p.Config) == "" {
		return nil, errors.New("the profile would carry no requirements and no managed defaults")
	}
	for key, doc := range map[string]string{RequirementsKey: p.Requirements, ConfigKey: p.Config} {
		if err := tomlText(doc); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if p.UUID == "" {
		p.UUID = NewUUID()
	}
	if p.PayloadUUID == "" {
		p.PayloadUUID = NewUUID()
	}
	enc := base64.StdEncoding.EncodeToString
	pl := payload{PayloadDisplayName: "Codex managed policy", PayloadIdentifier: p.Identifier + ".codex", PayloadType: Domain,
		PayloadUUID: p.PayloadUUID, PayloadVersion: 1}
	if p.Requirements != "" {
		pl.Requirements = enc([]byte(p.Requirements))
	}
	if p.Config != "" {
		pl.Config = enc([]byte(p.Config))
	}
	top := profile{PayloadContent: []payload{pl}, PayloadDescription: p.Description, PayloadDisplayName: p.DisplayName,
		PayloadIdentifier: p.Identifier, PayloadOrganization: p.Organization, PayloadRemovalDisallowed: true,
		PayloadScope: "System", PayloadType: "Configuration", PayloadUUID: p.UUID, PayloadVersion: 1}
	var buf bytes.Buffer
	e := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
	e.Indent("\t")
	if err := e.Encode(top); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// tomlText refuses what no TOML document holds: invalid UTF-8 and control
// characters other than tab and line ends.
func tomlText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for i, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return fmt.Errorf("control character U+%04X at byte %d: not TOML", r, i)
		}
	}
	return nil
}

// NewUUID is a random (version 4) UUID in the upper-case form profiles use.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// Sign wraps a profile in CMS SignedData (DER), as MDMs and macOS accept
// signed profiles: the certificate and its chain are included.
func Sign(data []byte, cert *x509.Certificate, key crypto.PrivateKey, chain []*x509.Certificate) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(data)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(cert, key, chain, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("sign the profile: %w", err)
	}
	return sd.Finish()
}

// Inspected is a profile read back.
type Inspected struct {
	Identifier, DisplayName, Scope, UUID string
	PayloadIdentifier, PayloadUUID       string
	Requirements, Config                 string
	// HasRequirements and HasConfig say which keys the payload carries.
	HasRequirements, HasConfig bool
	// Signer is the signing certificate of a signed profile (its
	// signature verified, not its chain), nil for an unsigned one.
	Signer *x509.Certificate
}

// Inspect reads a profile, signed or not, and decodes its Codex payload.
func Inspect(data []byte) (*Inspected, error) {
	out := &Inspected{}
	if len(data) > 0 && data[0] == 0x30 { // DER: a signed profile
		p7, err := pkcs7.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("signed profile: %w", err)
		}
		if err := p7.Verify(); err != nil {
			return nil, fmt.Errorf("signed profile: the signature does not verify: %w", err)
		}
		out.Signer = p7.GetOnlySigner()
		data = p7.Content
	}
	var top profile
	if _, err := plist.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a property list: %w", err)
	}
	if top.PayloadType != "Configuration" {
		return nil, fmt.Errorf("PayloadType is %q; a configuration profile has \"Configuration\"", top.PayloadType)
	}
	out.Identifier, out.DisplayName, out.Scope, out.UUID = top.PayloadIdentifier, top.PayloadDisplayName, top.PayloadScope, top.PayloadUUID
	var found *payload
	for i := range top.PayloadContent {
		if top.PayloadContent[i].PayloadType == Domain {
			if found != nil {
				return nil, fmt.Errorf("more than one %s payload", Domain)
			}
			found = &top.PayloadContent[i]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no payload of type %s", Domain)
	}
	out.PayloadIdentifier, out.PayloadUUID = found.PayloadIdentifier, found.PayloadUUID
	for _, f := range []struct {
		key, v string
		into   *string
		has    *bool
	}{{RequirementsKey, found.Requirements, &out.Requirements, &out.HasRequirements}, {ConfigKey, found.Config, &out.Config, &out.HasConfig}} {
		if f.v == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(f.v)
		if err != nil {
			return nil, fmt.Errorf("PayloadContent[%s].%s: not base64: %w", found.PayloadIdentifier, f.key, err)
		}
		*f.into, *f.has = string(b), true
	}
	return out, nil
}
