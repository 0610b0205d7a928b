package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/store"
)

// ---- notices ----

// noticeView is a notice with what the UI needs to know about its approval.
type noticeView struct {
	listing.Notice
	Approved   bool   `json:"approved"`
	ApprovedBy string `json:"approved_by,omitempty"`
	// Relisted counts the listings that came back after they were verified
	// removed, so the page can say why a notice is still up again (the API
	// has each listing's outcome).
	Relisted int `json:"-"`
}

func viewNotice(n listing.Notice) noticeView {
	v := noticeView{Notice: n}
	v.ApprovedBy, v.Approved = store.NoticeApprover(n)
	for _, l := range n.Listings {
		if l.Outcome == listing.OutcomeRelisted {
			v.Relisted++
		}
	}
	return v
}

func handleNotices(rs *responder, notices NoticeStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f store.NoticeFilter
		if st := r.URL.Query().Get("state"); st != "" {
			f.States = []listing.NoticeState{listing.NoticeState(st)}
		}
		f.Brand, f.Platform = r.URL.Query().Get("brand"), r.URL.Query().Get("platform")
		ns, err := notices.Notices(r.Context(), f)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		out := make([]noticeView, 0, len(ns))
		for _, n := range ns {
			out = append(out, viewNotice(n))
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].DraftedAt.After(out[j].DraftedAt) })
		if isAPI(r) {
			rs.json(w, http.StatusOK, map[string]any{"notices": out})
			return
		}
		rs.html(w, r, http.StatusOK, "notices", "Notices", out)
	})
}

// handleNoticeAction approves a notice or marks it sent, and records the
// action in the audit log in the same store transaction. Marking sent
// needs an approval first.
func handleNoticeAction(rs *responder, notices NoticeStore, now func() time.Time, changed func(context.Context, []listing.ID), action string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := r.PathValue("id")
		actor := principalFrom(ctx).User.Name
		ns, err := notices.Notices(ctx, store.NoticeFilter{})
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		var before *noticeView
		for _, n := range ns {
			if n.ID == id {
				v := viewNotice(n)
				before = &v
			}
		}
		if before == nil {
			rs.fail(w, r, fmt.Errorf("notice %s: %w", id, store.ErrNotFound))
			return
		}
		if before.State != listing.NoticeDrafted {
			writeError(w, r, http.StatusConflict, "notice is "+string(before.State)+", not drafted")
			return
		}
		from := "drafted"
		if before.Approved {
			from = "approved"
		}
		var to string
		audit := func(n listing.Notice) store.AuditEntry {
			return store.AuditEntry{At: now().UTC(), Actor: actor, Action: "notice." + action, Target: id, From: from, To: to,
				Detail: fmt.Sprintf("%s notice for %s, %d listings", n.Platform, n.Brand, len(n.Listings))}
		}
		var n listing.Notice
		switch action {
		case "approve":
			if before.Approved {
				writeError(w, r, http.StatusConflict, "notice already approved")
				return
			}
			to = "approved"
			n, err = notices.ApproveNotice(ctx, id, actor, now(), audit)
		case "sent":
			if !before.Approved {
				writeError(w, r, http.StatusConflict, "notice must be approved before it is sent")
				return
			}
			to = string(listing.NoticeSent)
			n, err = notices.MarkSent(ctx, id, actor, now(), audit)
		}
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if changed != nil {
			changed(ctx, n.ListingIDs()) // sending moves the listings to noticed
		}
		if isAPI(r) {
			rs.json(w, http.StatusOK, viewNotice(n))
			return
		}
		http.Redirect(w, r, "/notices", http.StatusSeeOther)
	})
}

// ---- sweeps ----

type sweepsPage struct {
	Sweeps   []listing.Sweep `json:"sweeps"`
	CanStart bool            `json:"-"`
	Started  bool            `json:"-"`
}

func handleSweeps(rs *responder, sweeps SweepStore, canStart bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, err := sweeps.Sweeps(r.Context(), 50)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if sw == nil {
			sw = []listing.Sweep{}
		}
		p := sweepsPage{Sweeps: sw, CanStart: canStart, Started: r.URL.Query().Get("started") == "1"}
		if isAPI(r) {
			rs.json(w, http.StatusOK, p)
			return
		}
		rs.html(w, r, http.StatusOK, "sweeps", "Sweeps", p)
	})
}

func handleStartSweep(rs *responder, start func() error, audit AuditLog, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if start == nil {
			writeError(w, r, http.StatusNotImplemented, "sweeps cannot be started from here")
			return
		}
		if err := start(); err != nil {
			writeError(w, r, http.StatusConflict, err.Error())
			return
		}
		actor := principalFrom(r.Context()).User.Name
		if _, err := audit.AppendAudit(r.Context(), store.AuditEntry{At: now().UTC(), Actor: actor, Action: "sweep.start"}); err != nil {
			rs.fail(w, r, err)
			return
		}
		if isAPI(r) {
			rs.json(w, http.StatusAccepted, map[string]string{"status": "started"})
			return
		}
		http.Redirect(w, r, "/sweeps?started=1", http.StatusSeeOther)
	})
}

// ---- audit log ----

type auditPage struct {
	Query   store.AuditQuery   `json:"-"`
	Entries []store.AuditEntry `json:"entries"`
}

func handleAudit(rs *responder, audit AuditLog) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q := store.AuditQuery{Target: v.Get("target"), Actor: v.Get("actor"), Action: v.Get("action"), Limit: 200}
		if l := v.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 || n > 10000 {
				rs.fail(w, r, badRequest("limit: between 1 and 10000"))
				return
			}
			q.Limit = n
		}
		es, err := audit.RecentAudit(r.Context(), q)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		if es == nil {
			es = []store.AuditEntry{}
		}
		if isAPI(r) {
			rs.json(w, http.StatusOK, auditPage{Entries: es})
			return
		}
		rs.html(w, r, http.StatusOK, "audit", "Audit log", auditPage{Query: q, Entries: es})
	})
}

// ---- accounts ----

type usersPage struct {
	Users    []store.User
	Roles    []store.Role
	NewToken string
	TokenFor string
	Message  string
}

func renderUsers(ctx context.Context, rs *responder, w http.ResponseWriter, r *http.Request, users UserStore, status int, p usersPage) {
	us, err := users.Users(ctx)
	if err != nil {
		rs.fail(w, r, err)
		return
	}
	p.Users = us
	p.Roles = []store.Role{store.RoleAnalyst, store.RoleApprover, store.RoleAdmin}
	rs.html(w, r, status, "users", "Accounts", p)
}

func handleUsers(rs *responder, users UserStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderUsers(r.Context(), rs, w, r, users, http.StatusOK, usersPage{})
	})
}

// handleUserAction adds an account, changes its role, disables or enables
// it, or issues an API token (form field "op"); each is audited in the
// same store transaction.
func handleUserAction(rs *responder, users UserStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		actor := principalFrom(ctx).User.Name
		name := strings.TrimSpace(r.PostFormValue("name"))
		var err error
		var p usersPage
		entry := store.AuditEntry{At: now().UTC(), Actor: actor, Target: name}
		audit := func(store.User) store.AuditEntry { return entry }
		switch op := r.PostFormValue("op"); op {
		case "add":
			role := store.Role(r.PostFormValue("role"))
			entry.Action, entry.To = "user.add", string(role)
			err = users.AddUser(ctx, name, role, r.PostFormValue("password"), audit)
			p.Message = "Account " + name + " created."
		case "role":
			role := store.Role(r.PostFormValue("role"))
			entry.Action, entry.To = "user.role", string(role)
			err = users.SetRole(ctx, name, role, audit)
			p.Message = "Role of " + name + " changed."
		case "disable", "enable":
			entry.Action = "user." + op
			err = users.SetDisabled(ctx, name, op == "disable", audit)
			p.Message = "Account " + name + " " + op + "d."
		case "token":
			label := r.PostFormValue("label")
			entry.Action, entry.Detail = "token.create", label
			p.NewToken, err = users.CreateToken(ctx, name, label, func(store.Token) store.AuditEntry { return entry })
			p.TokenFor, p.Message = name, ""
		default:
			err = badRequest("op: unknown operation %q", op)
		}
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		renderUsers(ctx, rs, w, r, users, http.StatusOK, p)
	})
}

// handleAPIMe tells an API client who it is.
func handleAPIMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := principalFrom(r.Context()).User
		buf, _ := json.Marshal(map[string]string{"name": u.Name, "role": string(u.Role)})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(append(buf, '\n'))
	})
}
