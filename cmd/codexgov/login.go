package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/internal/envknob"
	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"github.com/codexgov/codexgov/internal/configserver"
)

// credential is what codexgov login keeps: in the user's config folder
// (mode 0600), the tokens themselves only when no OS keyring holds them.
type credential struct {
	Server    string `json:"server"`
	Workspace string `json:"workspace"`
	User      string `json:"user"`
	// Store is "keyring" or "file".
	Store  string        `json:"store"`
	Tokens *oauth2.Token `json:"tokens,omitempty"`
}

const keyringService = "codexgov"

func credentialPath() (string, error) {
	dir := envknob.Get("CODEXGOV_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("no config folder for the credential: %w", err)
		}
		dir = filepath.Join(base, "codexgov")
	}
	return filepath.Join(dir, "credentials.json"), nil
}

// saveCredential writes the credential atomically with mode 0600, the
// tokens into the keyring when store is "keyring".
func saveCredential(c *credential) error {
	path, err := credentialPath()
	if err != nil {
		return err
	}
	onDisk := *c
	if c.Store == "keyring" {
		b, _ := json.Marshal(c.Tokens)
		if err := keyring.Set(keyringService, c.Server, string(b)); err != nil {
			return fmt.Errorf("the OS keyring refused the credential: %w", err)
		}
		onDisk.Tokens = nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(onDisk, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func loadCredential() (*credential, error) {
	path, err := credentialPath()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c credential
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.Store == "keyring" {
		s, err := keyring.Get(keyringService, c.Server)
		if err != nil {
			return nil, fmt.Errorf("the credential is in the OS keyring, which cannot be read: %w; run codexgov login again", err)
		}
		if err := json.Unmarshal([]byte(s), &c.Tokens); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

func oauthConfig(server string) *oauth2.Config {
	return &oauth2.Config{ClientID: configserver.CLIClientID, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: server + "/oauth/device/code", TokenURL: server + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// claimsOf reads the (server-signed) access token's claims for display.
func claimsOf(access string) configserver.AccessClaims {
	var c configserver.AccessClaims
	p, _, _ := strings.Cut(strings.TrimPrefix(access, configserver.AccessTokenPrefix), ".")
	if b, err := base64.RawURLEncoding.DecodeString(p); err == nil {
		json.Unmarshal(b, &c)
	}
	return c
}

// accessToken returns a live access token from the stored credential,
// refreshing it (and storing the rotated refresh token) when it expired.
func accessToken(ctx context.Context, c *credential) (string, error) {
	if c.Tokens == nil {
		return "", errors.New("the stored credential has no tokens; run codexgov login")
	}
	if c.Tokens.Valid() && time.Until(c.Tokens.Expiry) > 30*time.Second {
		return c.Tokens.AccessToken, nil
	}
	tok, err := oauthConfig(c.Server).TokenSource(ctx, c.Tokens).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return "", fmt.Errorf("your codexgov login ended (%s); run codexgov login again", re.ErrorDescription)
		}
		return "", err
	}
	c.Tokens = tok
	if err := saveCredential(c); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

func newLoginCmd() *cobra.Command {
	var server, workspace, store string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to a codexgov server with a device code (RFC 8628); codexgov admin then acts as you",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			server = strings.TrimSuffix(server, "/")
			if _, err := url.ParseRequestURI(server); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--server %q is not a URL", server)}
			}
			ctx := cmd.Context()
			conf := oauthConfig(server)
			var opts []oauth2.AuthCodeOption
			if workspace != "" {
				opts = append(opts, oauth2.SetAuthURLParam("workspace", workspace))
			}
			da, err := conf.DeviceAuth(ctx, opts...)
			if err != nil {
				return fmt.Errorf("the server did not start a device login: %w", oauthError(err))
			}
			out := cmd.ErrOrStderr()
			fmt.Fprintf(out, "To sign in, open %s\nand enter the code %s\n(or open %s)\nWaiting for approval…\n", da.VerificationURI, da.UserCode, da.VerificationURIComplete)
			tok, err := conf.DeviceAccessToken(ctx, da)
			if err != nil {
				return fmt.Errorf("login failed: %w", oauthError(err))
			}
			claims := claimsOf(tok.AccessToken)
			c := &credential{Server: server, Workspace: claims.Workspace, User: claims.User, Store: "file", Tokens: tok}
			if store != "file" {
				c.Store = "keyring"
				if err := saveCredential(c); err != nil {
					if store == "keyring" {
						return err
					}
					c.Store = "file"
				}
			}
			if c.Store == "file" {
				if err := saveCredential(c); err != nil {
					return err
				}
			}
			where := "the OS keyring"
			if c.Store == "file" {
				where, _ = credentialPath()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Signed in to %s as %s in workspace %s (credential in %s).\n", server, c.User, c.Workspace, where)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:7700", "server URL")
	envknob.Bind(cmd.Flags(), "server", "CODEXGOV_SERVER")
	cmd.Flags().StringVarP(&workspace, "workspace", "w", "", "workspace to sign in to (optional: the approving person's workspace otherwise)")
	envknob.Bind(cmd.Flags(), "workspace", "CODEXGOV_WORKSPACE")
	addCAFlag(cmd, false)
	cmd.Flags().StringVar(&store, "store", "auto", "where the credential goes: auto (the OS keyring when one answers, else a 0600 file), keyring, or file")
	return cmd
}

// oauthError turns an OAuth error response into its description.
func oauthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorDescription != "" {
			return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
		}
		return fmt.Errorf("%s (HTTP %d)", re.ErrorCode, re.Response.StatusCode)
	}
	return err
}

func newLogoutCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the codexgov login credential on the server and remove it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadCredential()
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintln(cmd.OutOrStdout(), "Not signed in.")
				return nil
			}
			if err != nil {
				return err
			}
			if c.Tokens != nil && c.Tokens.RefreshToken != "" {
				resp, err := serverHTTP(cmd.Context()).PostForm(c.Server+"/oauth/revoke", url.Values{"token": {c.Tokens.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {configserver.CLIClientID}})
				if err != nil {
					return fmt.Errorf("the server could not be reached to revoke the credential (it is kept; try again): %w", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("the server did not revoke the credential (HTTP %d); it is kept, try again", resp.StatusCode)
				}
			}
			if c.Store == "keyring" {
				keyring.Delete(keyringService, c.Server)
			}
			path, _ := credentialPath()
			if err := os.Remove(path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Signed out of %s.\n", c.Server)
			return nil
		},
	}
	addCAFlag(cmd, false)
	return cmd
}
