package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet/client"
)

func newPortalCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "portal",
		Short: "Open the portal, the web UI, for a tenant or as the operator (admin key)",
		Long: `The portal is Outlet's web UI at /portal/: a tenant's people manage their
endpoints, deliveries, functions, hooks and secrets there; the operator's
console shows every tenant, the catalog and the node's health.

A portal session is a one-time link: opening it sets a session cookie, and
the link can't be used again. Minting, listing and revoking sessions needs
the admin key. See docs/portal.md for embedding the portal in your
platform's own pages.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newPortalOpenCmd(r, &tenant), newPortalListCmd(r, &tenant), newPortalRevokeCmd(r, &tenant))
	return cmd
}

func newPortalOpenCmd(r *remote, tenant *string) *cobra.Command {
	var readOnly, browser bool
	var expiresIn time.Duration
	cmd := &cobra.Command{
		Use:   "open",
		Short: "Mint a portal session and print its link (or open it with --browser)",
		Long: `Mint a portal session and print the link that opens it. With --tenant (or
$OUTLET_TENANT) the session is that tenant's: it sees and changes what the
tenant's key may, and nothing else. Without, it is the operator's console,
with the admin key's rights.

The link works once, until the session expires (--expires-in, a minute to a
day). Links are relative to --url unless the server runs with --public-url.`,
		Example: `  outlet portal open --browser
  outlet portal open --tenant acme --read-only --expires-in 15m`,
		Args: args(),
		RunE: r.run(func(c *call) error {
			if expiresIn < time.Minute || expiresIn > 24*time.Hour {
				return fmt.Errorf("--expires-in %s: give a minute to a day (1m to 24h)", expiresIn)
			}
			req := client.PortalSessionCreate{ExpiresIn: int(expiresIn / time.Second), ReadOnly: readOnly}
			t, forTenant := optionalTenant(*tenant)
			var ps *client.CreatedPortalSession
			var err error
			if forTenant {
				ps, err = c.client.PortalSessions.Create(c.ctx(), t, req, c.keep())
			} else {
				ps, err = c.client.PortalSessions.CreateOperator(c.ctx(), req, c.keep())
			}
			if err != nil {
				return err
			}
			link := absolute(r.url, ps.URL)
			who := "the operator's console"
			if forTenant {
				who = "tenant " + t
			}
			if ps.ReadOnly {
				who += ", read-only"
			}
			c.note("Session %s for %s, until %s. The link opens once; revoke the session with: outlet portal revoke %s%s",
				ps.ID, who, ps.ExpiresAt.Local().Format(time.DateTime), ps.ID, tenantArg(forTenant, t))
			if err := c.print(func(w io.Writer) { fmt.Fprintln(w, link) }); err != nil {
				return err
			}
			if browser {
				if err := openBrowser(link); err != nil {
					return fmt.Errorf("open the link in a browser: %w (open it yourself: %s)", err, link)
				}
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&readOnly, "read-only", false, "the session may read, and change nothing")
	cmd.Flags().DurationVar(&expiresIn, "expires-in", time.Hour, "how long the session lasts: 1m to 24h")
	cmd.Flags().BoolVar(&browser, "browser", false, "open the link in this machine's browser (xdg-open, open or start)")
	return cmd
}

func newPortalListCmd(r *remote, tenant *string) *cobra.Command {
	var cursor string
	return &cobra.Command{
		Use:     "list",
		Short:   "List portal sessions: a tenant's with --tenant, else the operator's",
		Example: "  outlet portal list --tenant acme",
		Args:    args(),
		RunE: r.run(func(c *call) error {
			t, _ := optionalTenant(*tenant)
			p, err := c.client.PortalSessions.List(c.ctx(), t, client.ListOptions{Cursor: cursor}, c.keep())
			if err != nil {
				return err
			}
			now := time.Now()
			return printPage(c, p, func(w io.Writer) {
				row(w, "ID", "STATE", "READ-ONLY", "CREATED", "EXPIRES")
				for _, s := range p.Data {
					state := "unopened"
					switch {
					case s.RevokedAt != nil:
						state = "revoked"
					case !now.Before(s.ExpiresAt):
						state = "expired"
					case s.ExchangedAt != nil:
						state = "open"
					}
					row(w, s.ID, state, yesNo(s.ReadOnly), ago(s.CreatedAt), ago(s.ExpiresAt))
				}
			})
		}),
	}
}

func newPortalRevokeCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke SESSION_ID",
		Short: "End a portal session",
		Long: `End a portal session by its id (ps_…): a tenant's with --tenant, else the
operator's. The server that takes the call refuses it at once; others within
their --cache-ttl.`,
		Example: "  outlet portal revoke ps_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("SESSION_ID"),
		RunE: r.run(func(c *call) error {
			t, _ := optionalTenant(*tenant)
			if err := c.client.PortalSessions.Revoke(c.ctx(), t, c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Revoked portal session %s.", c.args[0])
			return nil
		}),
	}
}

// absolute makes a link the server gave relative to its address absolute.
func absolute(base, link string) string {
	if strings.HasPrefix(link, "/") {
		return strings.TrimRight(base, "/") + link
	}
	return link
}

func tenantArg(forTenant bool, tenant string) string {
	if !forTenant {
		return ""
	}
	return " --tenant " + tenant
}

// openBrowser opens link in the desktop's browser.
func openBrowser(link string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", link)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", link)
	default:
		cmd = exec.Command("xdg-open", link)
	}
	return cmd.Run()
}
