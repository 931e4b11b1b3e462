package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/envknob"
)

// Dynamic shell completion (codexgov completion bash|zsh|fish|powershell):
// policy, group, user and role names come from the server the command
// would talk to; permission names from the code.

// nameKind is what a positional argument names.
type nameKind int

const (
	kindPolicy nameKind = iota
	kindGroup
	kindUser
	kindRole
)

// completeNames completes the position-th argument (and any after it when
// rest is true) with names of kind from the server.
func completeNames(e *adminEnv, kinds ...nameKind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= len(kinds) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// Completion runs no pre-run hook: the environment is applied here.
		if envknob.Apply(cmd.Flags(), os.LookupEnv) != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if err := withServerCA(cmd); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		e.http = serverHTTP(cmd.Context())
		ws, err := e.ws()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
		defer cancel()
		c := e.client()
		var names []string
		switch kinds[len(args)] {
		case kindPolicy:
			ps, err := c.Policies(ctx, ws)
			for _, p := range ps {
				names = append(names, p.Name)
			}
			_ = err
		case kindGroup:
			gs, _ := c.Groups(ctx, ws)
			for _, g := range gs {
				names = append(names, g.Name)
			}
		case kindUser:
			us, _ := c.Users(ctx, ws)
			for _, u := range us {
				names = append(names, u.Email)
			}
		case kindRole:
			rs, _ := c.Roles(ctx, ws)
			for _, r := range rs {
				names = append(names, r.Name)
			}
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completePermissions completes a comma-separated permission list.
func completePermissions(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	for _, p := range codexgov.Permissions() {
		if strings.HasPrefix(string(p), last) && !strings.Contains(","+done, ","+string(p)+",") {
			out = append(out, done+string(p))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// addCompletions wires the name completions into the admin tree.
func addCompletions(admin *cobra.Command, e *adminEnv) {
	set := func(path string, fn cobra.CompletionFunc) {
		c, _, err := admin.Find(strings.Fields(path))
		if err != nil || c == admin {
			panic("completion for a missing command: admin " + path)
		}
		c.ValidArgsFunction = fn
	}
	for _, sub := range []string{"get", "put", "diff", "history", "delete"} {
		set("policies "+sub, completeNames(e, kindPolicy))
	}
	for _, sub := range []string{"get", "delete"} {
		set("groups "+sub, completeNames(e, kindGroup))
		set("roles "+sub, completeNames(e, kindRole))
	}
	set("roles update", completeNames(e, kindRole))
	set("groups add-member", completeNames(e, kindGroup, kindUser, kindUser, kindUser, kindUser, kindUser, kindUser, kindUser))
	set("groups remove-member", completeNames(e, kindGroup, kindUser, kindUser, kindUser, kindUser, kindUser, kindUser, kindUser))
	set("groups grant-role", completeNames(e, kindGroup, kindRole, kindRole, kindRole, kindRole))
	set("groups revoke-role", completeNames(e, kindGroup, kindRole, kindRole, kindRole, kindRole))
	for _, sub := range []string{"get", "deactivate", "activate"} {
		if c, _, err := admin.Find([]string{"users", sub}); err == nil && c.Name() == sub {
			c.ValidArgsFunction = completeNames(e, kindUser)
		}
	}
	set("access-tokens issue", completeNames(e, kindUser))
	for _, sub := range []string{"create", "update"} {
		c, _, _ := admin.Find([]string{"roles", sub})
		if err := c.RegisterFlagCompletionFunc("permission", completePermissions); err != nil {
			panic(err)
		}
	}
	for _, flag := range []string{"user"} {
		c, _, _ := admin.Find([]string{"lookup"})
		c.RegisterFlagCompletionFunc(flag, func(cmd *cobra.Command, args []string, tc string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return completeNames(e, kindUser)(cmd, nil, tc)
		})
	}
	c, _, _ := admin.Find([]string{"lookup"})
	c.RegisterFlagCompletionFunc("group", func(cmd *cobra.Command, args []string, tc string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return completeNames(e, kindGroup)(cmd, nil, tc)
	})
}
