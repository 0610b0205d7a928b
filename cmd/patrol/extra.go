package main

import "github.com/spf13/cobra"

// extraCommands are the commands beyond sweeping and reviewing: notices,
// verification, reports, accounts and the server.
func extraCommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newNoticesCmd(g), newVerifyCmd(g), newReportCmd(g), newUserCmd(g), newAuditCmd(g), newServeCmd(g)}
}
