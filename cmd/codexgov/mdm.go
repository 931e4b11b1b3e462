package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/codex/toml"
	"github.com/codexgov/codexgov/internal/atomicfile"
	"github.com/codexgov/codexgov/internal/mdm"
)

func newMDMCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mdm",
		Short: "macOS configuration profiles (.mobileconfig) that deliver a Codex policy through MDM",
	}
	cmd.AddCommand(newMDMProfileCmd(), newMDMInspectCmd())
	return cmd
}

type mdmProfileFlags struct {
	group, email, requirements, defaults, native, device string
	baseline                                             bool
	out, identifier, org, name                           string
	sign                                                 []string
}

func newMDMProfileCmd() *cobra.Command {
	e := &adminEnv{files: map[string]string{}}
	var f mdmProfileFlags
	cmd := &cobra.Command{
		Use:   "profile (--group G | --email E | --baseline | --requirements FILE) [-o FILE] [--sign CERT KEY]",
		Short: "Write a .mobileconfig with a com.openai.codex payload: requirements_toml_base64 and config_toml_base64",
		Long: `Write a configuration profile for macOS MDM (Jamf, Kandji, Fleet) whose
com.openai.codex payload carries:

  requirements_toml_base64  enforced requirements: the highest layer Codex reads
  config_toml_base64        managed defaults (read as the legacy managed_config.toml)

The policy is the one a group (--group) or a user (--email) is assigned, the
workspace's baseline (--baseline), or files (--requirements, --defaults) for
machines built without a server. With --native URL the requirements are
instead the bootstrap of the native configuration server (the baseline plus
[config_server], as codexgov install writes it for OAuth mode): Codex then
fetches each user's policy from codexgov at start.

Every document is checked as Codex 0.169.0 reads it before anything is
written. --sign CERT KEY (or CERT,KEY) signs the profile (CMS), so that
macOS shows it as verified.`,
		// --sign CERT KEY: the key arrives as the one argument.
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if len(f.sign) != 1 {
					return &exitError{code: 2, err: fmt.Errorf("unexpected argument %q (--sign takes CERT KEY or CERT,KEY)", args[0])}
				}
				f.sign = append(f.sign, args[0])
			}
			return f.run(cmd, e)
		},
	}
	fl := cmd.Flags()
	e.serverFlags(fl, "API key with admin:read; without one, the credential of codexgov login")
	addCAFlag(cmd, false)
	fl.StringVar(&f.group, "group", "", "the policy a member of this group gets")
	fl.StringVar(&f.email, "email", "", "the policy this user gets")
	fl.StringVar(&f.device, "device", "", "with --email and the workspace's telemetry on: the machine's name, stamped on its events")
	fl.BoolVar(&f.baseline, "baseline", false, "the workspace's baseline policy")
	fl.StringVar(&f.requirements, "requirements", "", "requirements.toml file, for a profile made without a server")
	fl.StringVar(&f.defaults, "defaults", "", "managed defaults (config.toml keys) file, with --requirements")
	fl.StringVar(&f.native, "native", "", "the server's HTTPS URL as Macs reach it: carry the native configuration server's bootstrap instead of a policy (with --baseline)")
	fl.StringVarP(&f.out, "output", "o", "", "file to write (default: standard output)")
	fl.StringVar(&f.identifier, "identifier", "", "the profile's PayloadIdentifier (default: com.codexgov.<workspace>.<policy source>)")
	fl.StringVar(&f.org, "organization", "", "PayloadOrganization shown on the Mac")
	fl.StringVar(&f.name, "name", "", "PayloadDisplayName (default: names the policy)")
	fl.StringSliceVar(&f.sign, "sign", nil, "CERT KEY (or CERT,KEY): PEM certificate (with its chain) and PEM private key to sign the profile with")
	return cmd
}

var identPart = regexp.MustCompile(`[^A-Za-z0-9-]+`)

func (f *mdmProfileFlags) run(cmd *cobra.Command, e *adminEnv) error {
	chosen := 0
	for _, on := range []bool{f.group != "", f.email != "", f.baseline, f.requirements != ""} {
		if on {
			chosen++
		}
	}
	if chosen != 1 {
		return &exitError{code: 2, err: errors.New("give exactly one of --group, --email, --baseline and --requirements")}
	}
	if f.defaults != "" && f.requirements == "" {
		return &exitError{code: 2, err: errors.New("--defaults goes with --requirements")}
	}
	if f.native != "" && !f.baseline {
		return &exitError{code: 2, err: errors.New("--native makes the server choose each user's policy: use it with --baseline (the floor in the bootstrap), not with a group or user")}
	}
	var sign struct {
		cert  *x509.Certificate
		chain []*x509.Certificate
		key   any
	}
	if len(f.sign) > 0 {
		if len(f.sign) != 2 {
			return &exitError{code: 2, err: errors.New("--sign wants CERT KEY")}
		}
		pair, err := tls.LoadX509KeyPair(f.sign[0], f.sign[1])
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--sign: %w", err)}
		}
		for i, der := range pair.Certificate {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--sign %s: %w", f.sign[0], err)}
			}
			if i == 0 {
				sign.cert = c
			} else {
				sign.chain = append(sign.chain, c)
			}
		}
		sign.key = pair.PrivateKey
	}

	p := mdm.Profile{Organization: f.org}
	var source, ws string
	switch {
	case f.requirements != "":
		b, err := os.ReadFile(f.requirements)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		p.Requirements = string(b)
		if f.defaults != "" {
			if b, err = os.ReadFile(f.defaults); err != nil {
				return &exitError{code: 2, err: err}
			}
			p.Config = string(b)
		}
		source = "files"
		p.DisplayName = "Codex policy"
	default:
		var err error
		if ws, err = e.ws(); err != nil {
			return err
		}
		e.http = serverHTTP(cmd.Context())
		c := e.client()
		ctx := cmd.Context()
		var pv *codexgov.PolicyVersion
		switch {
		case f.group != "" || f.email != "":
			lookup, who := c.LookupGroup, "group"
			if source = f.group; f.email != "" {
				lookup, who, source = c.LookupUser, "user", f.email
			}
			l, err := lookup(ctx, ws, source)
			if err != nil {
				return e.fail(cmd, err)
			}
			if pv = l.Policy; pv == nil {
				return &exitError{code: 1, err: fmt.Errorf("%s %q gets no policy in workspace %s: no rule matches and there is no default", who, source, ws)}
			}
		default:
			var b codexgov.Bootstrap
			if err := c.Do(ctx, "GET", "/api/v1/workspaces/"+url.PathEscape(ws)+"/install", nil, &b); err != nil {
				return e.fail(cmd, err)
			}
			source = "baseline"
			if f.native != "" {
				base := strings.TrimRight(f.native, "/")
				if u, err := url.Parse(base); err != nil || u.Scheme != "https" || u.Host == "" {
					return &exitError{code: 2, err: fmt.Errorf("--native %q: Codex reaches a configuration server over HTTPS only", f.native)}
				}
				p.Requirements = bootstrapTOML(base, "", b, time.Now())
				p.DisplayName = "Codex: policy from " + base
				source = "native"
				break
			}
			if b.Baseline == nil {
				return &exitError{code: 1, err: fmt.Errorf("workspace %s has no baseline policy (codexgov admin assignment set --baseline POLICY)", ws)}
			}
			pv = b.Baseline
		}
		if pv != nil {
			p.Requirements, p.Config = pv.Requirements, pv.Defaults
			p.DisplayName = fmt.Sprintf("Codex policy %s v%d", pv.Name, pv.Version)
			p.Description = fmt.Sprintf("Codex policy %s version %d of workspace %s (%s), delivered by codexgov. Content hash %s.", pv.Name, pv.Version, ws, source, pv.Hash)
			// With the workspace's telemetry on, the profile carries the
			// enforced [otel] block with the user's own telemetry token; a
			// profile for many machines cannot carry each one's.
			st, err := c.Settings(ctx, ws)
			if err != nil {
				return e.fail(cmd, err)
			}
			if st.TelemetryOn() {
				if f.email == "" {
					return &exitError{code: 1, err: fmt.Errorf("workspace %s has telemetry %s: a profile for a %s reaches many machines and cannot carry each user's own telemetry token; make one per user with --email, or use --native so that each user's Codex fetches its own", ws, st.Telemetry, map[bool]string{true: "group", false: "baseline"}[f.group != ""])}
				}
				tok, err := c.MintTelemetryToken(ctx, ws, codexgov.TelemetryTokenMint{User: f.email, Device: f.device})
				if err != nil {
					return e.fail(cmd, err)
				}
				p.Requirements = strings.TrimRight(p.Requirements, "\n") + "\n\n" + tok.Otel
				p.Description += " Telemetry export to codexgov enforced (" + st.Telemetry + ")."
			}
		}
	}
	if f.name != "" {
		p.DisplayName = f.name
	}
	p.Identifier = f.identifier
	if p.Identifier == "" {
		parts := []string{"com", "codexgov"}
		for _, s := range []string{ws, source} {
			if s = strings.Trim(identPart.ReplaceAllString(s, "-"), "-"); s != "" {
				parts = append(parts, strings.ToLower(s))
			}
		}
		p.Identifier = strings.Join(parts, ".")
	}
	if _, _, err := mdmEffective(p.Requirements, p.Config); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("%w; nothing was written", err)}
	}
	data, err := mdm.Build(p)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if sign.cert != nil {
		if data, err = mdm.Sign(data, sign.cert, sign.key, sign.chain); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	if f.out == "" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if _, err := atomicfile.Write(f.out, data, atomicfile.Options{Mode: 0o644}); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%s, identifier %s)\n", f.out, p.DisplayName, p.Identifier)
	return nil
}

// mdmLayers are the layers a profile's documents are on a Mac. A native
// bootstrap's [config_server] table is set aside (the check cannot fetch
// the policy it names); native reports whether there was one.
func mdmLayers(req, config string) (in requirements.Inputs, native bool) {
	if req != "" {
		in.MDM = &requirements.Layer{Source: requirements.Source{Kind: requirements.MDMRequirements}, Contents: req}
		if doc, err := toml.Parse(req); err == nil && doc.Tbl.Remove("config_server") != nil {
			in.MDM.Doc, native = doc, true
		}
	}
	if config != "" {
		in.LegacyManaged = &requirements.Layer{Source: requirements.Source{Kind: requirements.LegacyManagedMDM}, Contents: config}
	}
	return in, native
}

// mdmEffective composes a profile's documents as Codex 0.169.0 reads
// them on a Mac.
func mdmEffective(req, config string) (res *requirements.Result, native bool, err error) {
	in, native := mdmLayers(req, config)
	if res, err = requirements.Effective(in); err != nil {
		err = fmt.Errorf("the profile would make Codex %s refuse to start: %v", requirements.CodexVersion, err)
	}
	return res, native, err
}

func newMDMInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Decode a .mobileconfig (signed or not) back to its TOML and validate it as Codex 0.169.0 reads it",
		Long: `Print the profile's identifiers, its signer when signed (the signature is
verified; the chain is the MDM's and the Mac's to trust), and the TOML of
requirements_toml_base64 and config_toml_base64, then the requirements Codex
would enforce from them (as codex app-server --print-startup-config prints).
Exit status 1 when Codex would refuse them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			p, err := mdm.Inspect(data)
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			res, native, verr := mdmEffective(p.Requirements, p.Config)
			out := cmd.OutOrStdout()
			signer := ""
			if p.Signer != nil {
				signer = p.Signer.Subject.String()
			}
			if asJSON {
				v := map[string]any{"identifier": p.Identifier, "display_name": p.DisplayName, "scope": p.Scope, "uuid": p.UUID,
					"payload_identifier": p.PayloadIdentifier, "payload_uuid": p.PayloadUUID, "signed_by": signer,
					mdm.RequirementsKey: p.Requirements, mdm.ConfigKey: p.Config, "valid": verr == nil, "native_bootstrap": native}
				if verr != nil {
					v["error"] = verr.Error()
				} else {
					v["effective"] = json.RawMessage(res.StartupConfigJSON())
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.Encode(v)
			} else {
				fmt.Fprintf(out, "identifier:   %s\nname:         %s\nscope:        %s\nuuid:         %s\npayload:      %s (%s)\n",
					p.Identifier, p.DisplayName, p.Scope, p.UUID, p.PayloadIdentifier, p.PayloadUUID)
				if signer == "" {
					signer = "(not signed)"
				}
				fmt.Fprintf(out, "signed by:    %s\n", signer)
				for _, d := range []struct {
					key, body string
					has       bool
				}{{mdm.RequirementsKey, p.Requirements, p.HasRequirements}, {mdm.ConfigKey, p.Config, p.HasConfig}} {
					if !d.has {
						fmt.Fprintf(out, "\n# %s: absent\n", d.key)
						continue
					}
					fmt.Fprintf(out, "\n# %s\n%s", d.key, d.body)
					if !strings.HasSuffix(d.body, "\n") {
						fmt.Fprintln(out)
					}
				}
				if native {
					fmt.Fprintln(out, "\n# a native bootstrap: Codex fetches each user's policy from [config_server] at start;\n# what follows is the floor it carries, checked without that table")
				}
				if verr == nil {
					fmt.Fprintf(out, "\n# what Codex %s enforces from this profile\n%s\n", requirements.CodexVersion, res.StartupConfigJSON())
				}
			}
			if verr != nil {
				return &exitError{code: 1, err: verr}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// mdmBase64 is what the effective command's MDM flags take.
func mdmBase64(flag, v string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "", fmt.Errorf("%s: not base64: %w", flag, err)
	}
	return string(b), nil
}
