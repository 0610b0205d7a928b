// Package schedule decides when `patrol serve` sweeps which marketplace: a
// cron schedule (cron syntax or @every) for all marketplaces with
// per-marketplace overrides, a catch-up run at start-up for a run missed
// while the process was down, and manual "sweep now" requests. It never lets
// two sweeps of the same marketplace run at once.
//
// The scheduler does not sweep itself: it calls Options.Run with the
// marketplaces that are due, so it can be tested with a fake clock and a
// fake sweep.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/patrol-dev/patrol/listing"
)

// ErrBusy is returned by TriggerNow when a sweep of one of the asked-for
// marketplaces is already running.
var ErrBusy = errors.New("sweep already running")

// ErrUnknownMarketplace is returned by TriggerNow for a marketplace the
// scheduler was not given.
var ErrUnknownMarketplace = errors.New("unknown marketplace")

// Reasons passed to Options.Run.
const (
	ReasonSchedule = "schedule" // the cron schedule came due
	ReasonMissed   = "missed"   // a run was missed while the process was down
	ReasonManual   = "manual"   // someone asked for a sweep now
)

// RunFunc sweeps the given marketplaces; reason is one of the Reason
// constants. It runs in its own goroutine and should return when ctx ends.
type RunFunc func(ctx context.Context, marketplaces []string, reason string) error

// Options configure a Scheduler.
type Options struct {
	// Spec is the schedule of every marketplace without an override, in
	// cron syntax ("0 */6 * * *") or a descriptor ("@every 6h", "@daily").
	// Empty means those marketplaces are only swept on demand.
	Spec string
	// Overrides maps a marketplace name to its own spec; "off" (or "-")
	// means that marketplace is only swept on demand.
	Overrides map[string]string
	// Marketplaces are all the marketplaces the scheduler may sweep.
	Marketplaces []string
	// Run performs one sweep. Marketplaces sharing a spec are swept
	// together in one call.
	Run RunFunc
	// LastRun returns when the marketplace was last swept (the start of
	// its newest sweep), for missed-run detection at start-up. Nil, or
	// ok == false, means never: such a marketplace is swept at start-up.
	LastRun func(marketplace string) (time.Time, bool)
	// Exclusive allows only one sweep at a time over all marketplaces
	// (the sweep resumes only the newest unfinished sweep, so concurrent
	// sweeps of different marketplaces may be unwanted).
	Exclusive bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// group is the set of marketplaces that share one schedule.
type group struct {
	spec         string
	sched        cron.Schedule
	marketplaces []string
	next         time.Time
}

// Status is what the UI shows about one marketplace's schedule.
type Status struct {
	Marketplace string `json:"marketplace"`
	// Spec is the effective schedule ("" when swept on demand only).
	Spec    string    `json:"spec,omitempty"`
	Next    time.Time `json:"next,omitempty"`
	Running bool      `json:"running"`
	// LastStarted, LastEnded, LastReason and LastError describe the newest
	// run this process started.
	LastStarted time.Time `json:"last_started,omitempty"`
	LastEnded   time.Time `json:"last_ended,omitempty"`
	LastReason  string    `json:"last_reason,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
}

// Scheduler runs sweeps on a schedule and on demand.
type Scheduler struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	groups []*group
	known  map[string]bool

	mu      sync.Mutex
	running map[string]bool
	status  map[string]*Status
	cancels map[int]context.CancelFunc
	nextRun int
	wg      sync.WaitGroup
	stop    context.CancelFunc
	loop    chan struct{}
}

// Parse parses a schedule spec: five-field cron syntax, an optional
// "CRON_TZ=" prefix, or a descriptor such as "@every 6h" or "@daily".
func Parse(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(strings.TrimSpace(spec))
	if err != nil {
		return nil, fmt.Errorf("parse schedule %q: %w", spec, err)
	}
	return s, nil
}

// Validate reports whether spec is a schedule Parse accepts; "" and "off"
// are valid (on demand only). config check can call it.
func Validate(spec string) error {
	if isOff(spec) {
		return nil
	}
	_, err := Parse(spec)
	return err
}

func isOff(spec string) bool {
	s := strings.TrimSpace(spec)
	return s == "" || s == "off" || s == "-"
}

// New validates opts and returns a Scheduler; nothing runs until Start,
// Tick or TriggerNow.
func New(opts Options) (*Scheduler, error) {
	if opts.Run == nil {
		return nil, errors.New("new scheduler: no run function")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{
		opts:    opts,
		log:     opts.Log,
		now:     opts.Now,
		known:   map[string]bool{},
		running: map[string]bool{},
		status:  map[string]*Status{},
		cancels: map[int]context.CancelFunc{},
	}
	for name := range opts.Overrides {
		if !slices.Contains(opts.Marketplaces, name) {
			return nil, fmt.Errorf("new scheduler: override for %q: %w", name, ErrUnknownMarketplace)
		}
	}
	bySpec := map[string]*group{}
	for _, m := range opts.Marketplaces {
		if s.known[m] {
			continue
		}
		s.known[m] = true
		spec := opts.Spec
		if o, ok := opts.Overrides[m]; ok {
			spec = o
		}
		spec = strings.TrimSpace(spec)
		st := &Status{Marketplace: m}
		s.status[m] = st
		if isOff(spec) {
			continue
		}
		st.Spec = spec
		g := bySpec[spec]
		if g == nil {
			sched, err := Parse(spec)
			if err != nil {
				return nil, fmt.Errorf("new scheduler: marketplace %s: %w", m, err)
			}
			g = &group{spec: spec, sched: sched}
			bySpec[spec] = g
			s.groups = append(s.groups, g)
		}
		g.marketplaces = append(g.marketplaces, m)
	}
	return s, nil
}

// Start checks for missed runs (running each affected group once), then
// runs the schedule until ctx ends or Stop is called. It returns at once;
// sweeps run in their own goroutines with a context derived from ctx.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	if s.stop != nil {
		s.mu.Unlock()
		cancel()
		return
	}
	s.stop = cancel
	s.loop = make(chan struct{})
	s.mu.Unlock()
	s.CatchUp(ctx)
	go s.run(ctx)
}

func (s *Scheduler) run(ctx context.Context) {
	defer close(s.loop)
	const maxSleep = time.Minute // re-reads the clock: wall-clock jumps, suspend
	for {
		next, ok := s.Next()
		d := maxSleep
		if ok {
			if until := next.Sub(s.now()); until < d {
				d = until
			}
		}
		if d < 0 {
			d = 0
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			s.Tick(ctx, s.now())
		}
	}
}

// Stop ends the schedule started by Start, cancels running sweeps and
// waits for them to return.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	stop, loop := s.stop, s.loop
	for _, c := range s.cancels {
		c()
	}
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-loop
	}
	s.wg.Wait()
}

// Wait blocks until every sweep started so far has returned.
func (s *Scheduler) Wait() { s.wg.Wait() }

// Next returns the earliest time a group is due; ok is false when nothing
// is scheduled.
func (s *Scheduler) Next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, g := range s.groups {
		if g.next.IsZero() {
			continue
		}
		if next.IsZero() || g.next.Before(next) {
			next = g.next
		}
	}
	return next, !next.IsZero()
}

// CatchUp computes every group's next run from now and starts, once, the
// marketplaces whose scheduled run was missed: never swept, or a run was
// due between their last sweep and now. Start calls it.
func (s *Scheduler) CatchUp(ctx context.Context) {
	now := s.now()
	var missed []string
	s.mu.Lock()
	for _, g := range s.groups {
		for _, m := range g.marketplaces {
			last, ok := time.Time{}, false
			if s.opts.LastRun != nil {
				last, ok = s.opts.LastRun(m)
			}
			if !ok || !g.sched.Next(last).After(now) {
				missed = append(missed, m)
			}
		}
		g.next = g.sched.Next(now)
	}
	s.mu.Unlock()
	if len(missed) > 0 {
		// Marketplaces that share a spec were swept together, but a
		// catch-up sweeps every missed one in one run.
		if err := s.start(ctx, missed, ReasonMissed, true); err != nil {
			s.log.Warn("missed sweep not started", "marketplaces", missed, "err", err)
		}
	}
}

// Tick starts the sweeps of every group due at now and advances their next
// run times; Start's loop calls it, and tests call it with a fake time. A
// group whose marketplaces are all still being swept is skipped (logged):
// its next run comes at the following schedule time.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) {
	var due [][]string
	s.mu.Lock()
	for _, g := range s.groups {
		if g.next.IsZero() {
			g.next = g.sched.Next(now)
			continue
		}
		if g.next.After(now) {
			continue
		}
		due = append(due, g.marketplaces)
		g.next = g.sched.Next(now)
	}
	s.mu.Unlock()
	for _, ms := range due {
		if err := s.start(ctx, ms, ReasonSchedule, true); err != nil {
			s.log.Warn("scheduled sweep skipped", "marketplaces", ms, "err", err)
		}
	}
}

// TriggerNow starts a sweep of marketplaces (all when empty) at once, for
// "sweep now" in the UI, API or CLI. It returns ErrBusy, starting nothing,
// when any of them is being swept. The sweep runs in the background and is
// not cancelled when ctx ends (ctx is typically an HTTP request's); Stop
// cancels it.
func (s *Scheduler) TriggerNow(ctx context.Context, marketplaces []string) error {
	if len(marketplaces) == 0 {
		marketplaces = s.allMarketplaces()
	}
	for _, m := range marketplaces {
		if !s.known[m] {
			return fmt.Errorf("sweep %s: %w", m, ErrUnknownMarketplace)
		}
	}
	return s.start(context.WithoutCancel(ctx), marketplaces, ReasonManual, false)
}

func (s *Scheduler) allMarketplaces() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range s.opts.Marketplaces {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// start locks marketplaces and runs them in a goroutine. With partial, the
// marketplaces already being swept are left out and only an empty
// remainder is an error; without, any overlap is ErrBusy.
func (s *Scheduler) start(ctx context.Context, marketplaces []string, reason string, partial bool) error {
	s.mu.Lock()
	var free, busy []string
	anyRunning := len(s.running) > 0
	for _, m := range marketplaces {
		if s.running[m] || (s.opts.Exclusive && anyRunning) {
			busy = append(busy, m)
		} else if !slices.Contains(free, m) {
			free = append(free, m)
		}
	}
	if len(busy) > 0 && (!partial || len(free) == 0) {
		s.mu.Unlock()
		return fmt.Errorf("sweep %s: %w", strings.Join(busy, ", "), ErrBusy)
	}
	if len(busy) > 0 {
		s.log.Info("skipping marketplaces already being swept", "busy", busy)
	}
	sort.Strings(free)
	started := s.now()
	for _, m := range free {
		s.running[m] = true
		st := s.status[m]
		st.Running, st.LastStarted, st.LastEnded, st.LastReason, st.LastError = true, started, time.Time{}, reason, ""
	}
	ctx, cancel := context.WithCancel(ctx)
	id := s.nextRun
	s.nextRun++
	s.cancels[id] = cancel
	s.wg.Add(1)
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		defer cancel()
		s.log.Info("sweep starting", "marketplaces", free, "reason", reason)
		err := s.safeRun(ctx, free, reason)
		s.mu.Lock()
		delete(s.cancels, id)
		ended := s.now()
		for _, m := range free {
			delete(s.running, m)
			st := s.status[m]
			st.Running, st.LastEnded = false, ended
			if err != nil {
				st.LastError = err.Error()
			}
		}
		s.mu.Unlock()
		if err != nil {
			s.log.Error("sweep failed", "marketplaces", free, "reason", reason, "err", err)
		} else {
			s.log.Info("sweep finished", "marketplaces", free, "reason", reason)
		}
	}()
	return nil
}

func (s *Scheduler) safeRun(ctx context.Context, ms []string, reason string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sweep panicked: %v", r)
		}
	}()
	return s.opts.Run(ctx, ms, reason)
}

// Running reports whether marketplace is being swept.
func (s *Scheduler) Running(marketplace string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[marketplace]
}

// Statuses returns the schedule of every marketplace, in name order, for
// the UI and API.
func (s *Scheduler) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.status))
	for _, g := range s.groups {
		for _, m := range g.marketplaces {
			s.status[m].Next = g.next
		}
	}
	for _, st := range s.status {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Marketplace < out[j].Marketplace })
	return out
}

// LastRunFromSweeps returns a LastRun function over stored sweep records
// (store.Sweeps): the start of the newest sweep that covered the
// marketplace, a sweep with no Marketplaces covering all of them. A sweep
// that is still marked running counts too: it will be resumed.
func LastRunFromSweeps(sweeps []listing.Sweep) func(marketplace string) (time.Time, bool) {
	last := map[string]time.Time{}
	var all time.Time
	for _, sw := range sweeps {
		if len(sw.Marketplaces) == 0 {
			if sw.Started.After(all) {
				all = sw.Started
			}
			continue
		}
		for _, m := range sw.Marketplaces {
			if sw.Started.After(last[m]) {
				last[m] = sw.Started
			}
		}
	}
	return func(m string) (time.Time, bool) {
		t := last[m]
		if all.After(t) {
			t = all
		}
		return t, !t.IsZero()
	}
}
