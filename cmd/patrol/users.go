package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/patrol-dev/patrol/store"
)

func newUserCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Analyst accounts for the web UI"}
	var role string
	var token bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create an account (password from a prompt, or the first line of stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := store.Role(role)
			switch r {
			case store.RoleAnalyst, store.RoleApprover, store.RoleAdmin:
			default:
				return usagef("--role must be analyst, approver or admin, not %q", role)
			}
			pw, err := readPassword(g)
			if err != nil {
				return err
			}
			return g.withApp(cmd, false, func(ctx context.Context, a *app) error {
				err := a.store.AddUser(ctx, args[0], r, pw, func(store.User) store.AuditEntry {
					return store.AuditEntry{Actor: actor(), Action: "user.add", Target: args[0], To: string(r)}
				})
				if err != nil {
					return fmt.Errorf("add user %s: %w", args[0], err)
				}
				fmt.Fprintf(g.stdout, "user %s added as %s\n", args[0], r)
				if token {
					tok, err := a.store.CreateToken(ctx, args[0], "cli", nil)
					if err != nil {
						return fmt.Errorf("create API token: %w", err)
					}
					fmt.Fprintf(g.stdout, "API token (shown once): %s\n", tok)
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "analyst", "analyst, approver or admin")
	add.Flags().BoolVar(&token, "token", false, "also create an API bearer token")
	c.AddCommand(add)
	return c
}

// readPassword prompts on a terminal without echo; otherwise it reads the
// first line of stdin, so scripts can pipe a password in.
func readPassword(g *globals) (string, error) {
	if f, ok := g.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(g.stderr, "password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(g.stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", usagef("no password on stdin")
		}
		return "", usagef("empty password")
	}
	return line, nil
}

func newAuditCmd(g *globals) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "audit",
		Short: "Export the append-only audit log (--format jsonl)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "jsonl" {
				return usagef("--format must be jsonl")
			}
			return g.withApp(cmd, false, func(ctx context.Context, a *app) error {
				if err := a.store.VerifyAudit(ctx); err != nil {
					return fmt.Errorf("audit log: %w", err)
				}
				enc := json.NewEncoder(g.stdout)
				enc.SetEscapeHTML(false)
				return a.store.Audit(ctx, func(e store.AuditEntry) error { return enc.Encode(e) })
			})
		},
	}
	c.Flags().StringVar(&format, "format", "jsonl", "jsonl")
	return c
}
