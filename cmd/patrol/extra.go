package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/patrol-dev/patrol/store"
)

// extraCommands are the commands beyond sweeping and reviewing: notices,
// verification, reports, accounts and the server.
func extraCommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newNoticesCmd(g), newVerifyCmd(g), newReportCmd(g), newUserCmd(g), newAuditCmd(g), newServeCmd(g)}
}

// audit appends an entry to the append-only audit log; a failure to audit
// is logged, never silently dropped.
func (a *app) audit(ctx context.Context, actor, action, target, from, to, detail string) {
	_, err := a.store.AppendAudit(ctx, store.AuditEntry{Actor: actor, Action: action, Target: target, From: from, To: to, Detail: detail})
	if err != nil {
		a.log.Error("append audit entry", "action", action, "target", target, "err", err)
	}
}
