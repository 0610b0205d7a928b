package schedule_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patrol-dev/patrol/listing"
	"github.com/patrol-dev/patrol/schedule"
)

// fakeSweeps records the runs a scheduler starts; a run blocks until
// release is closed when block is set.
type fakeSweeps struct {
	mu      sync.Mutex
	runs    []string // "reason:m1,m2"
	block   chan struct{}
	started chan struct{}
}

func (f *fakeSweeps) run(ctx context.Context, ms []string, reason string) error {
	f.mu.Lock()
	f.runs = append(f.runs, reason+":"+strings.Join(ms, ","))
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (f *fakeSweeps) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.runs)
	slices.Sort(out)
	return out
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestScheduleFiresOnFakeClock(t *testing.T) {
	tests := []struct {
		name      string
		spec      string
		overrides map[string]string
		ticks     []time.Duration // offsets from t0, in order
		want      []string
	}{
		{
			name:  "every hour, not yet due",
			spec:  "@every 1h",
			ticks: []time.Duration{30 * time.Minute, 59 * time.Minute},
			want:  nil,
		},
		{
			name:  "every hour fires once per period",
			spec:  "@every 1h",
			ticks: []time.Duration{time.Hour, time.Hour + time.Minute, 2 * time.Hour},
			want:  []string{"schedule:a,b", "schedule:a,b"},
		},
		{
			name:  "cron syntax",
			spec:  "0 12 * * *",
			ticks: []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour},
			want:  []string{"schedule:a,b"},
		},
		{
			name:      "override runs its marketplace on its own schedule",
			spec:      "@every 6h",
			overrides: map[string]string{"b": "@every 1h"},
			ticks:     []time.Duration{time.Hour, 2 * time.Hour, 6 * time.Hour},
			want:      []string{"schedule:a", "schedule:b", "schedule:b", "schedule:b"},
		},
		{
			name:      "override off",
			spec:      "@every 1h",
			overrides: map[string]string{"a": "off"},
			ticks:     []time.Duration{time.Hour},
			want:      []string{"schedule:b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSweeps{}
			now := t0
			s, err := schedule.New(schedule.Options{
				Spec: tt.spec, Overrides: tt.overrides, Marketplaces: []string{"a", "b"},
				Run:     f.run,
				LastRun: func(string) (time.Time, bool) { return t0.Add(-time.Minute), true },
				Now:     func() time.Time { return now },
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			s.CatchUp(ctx)
			for _, d := range tt.ticks {
				now = t0.Add(d)
				s.Tick(ctx, now)
				s.Wait()
			}
			if got := f.got(); !slices.Equal(got, tt.want) {
				t.Errorf("runs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMissedRunRunsOnceAtStartUp(t *testing.T) {
	tests := []struct {
		name string
		last map[string]time.Time
		want []string
	}{
		{"recent", map[string]time.Time{"a": t0.Add(-time.Hour), "b": t0.Add(-2 * time.Hour)}, nil},
		{"one missed", map[string]time.Time{"a": t0.Add(-time.Hour), "b": t0.Add(-30 * time.Hour)}, []string{"missed:b"}},
		{"both missed many times", map[string]time.Time{"a": t0.Add(-300 * time.Hour), "b": t0.Add(-30 * time.Hour)}, []string{"missed:a,b"}},
		{"never swept", map[string]time.Time{"a": t0.Add(-time.Hour)}, []string{"missed:b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSweeps{}
			s, err := schedule.New(schedule.Options{
				Spec: "@every 6h", Marketplaces: []string{"a", "b"}, Run: f.run,
				LastRun: func(m string) (time.Time, bool) { v, ok := tt.last[m]; return v, ok },
				Now:     func() time.Time { return t0 },
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s.Start(ctx)
			s.Wait()
			s.Stop()
			if got := f.got(); !slices.Equal(got, tt.want) {
				t.Errorf("runs = %q, want %q", got, tt.want)
			}
			if next, ok := s.Next(); !ok || !next.Equal(t0.Add(6*time.Hour)) {
				t.Errorf("Next() = %v, %v, want %v", next, ok, t0.Add(6*time.Hour))
			}
		})
	}
}

func TestOverlappingRunsAreRefused(t *testing.T) {
	f := &fakeSweeps{block: make(chan struct{}), started: make(chan struct{}, 10)}
	now := t0
	s, err := schedule.New(schedule.Options{
		Spec: "@every 1h", Marketplaces: []string{"a", "b", "c"}, Run: f.run,
		LastRun: func(string) (time.Time, bool) { return t0, true },
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.CatchUp(ctx)

	if err := s.TriggerNow(ctx, []string{"a"}); err != nil {
		t.Fatalf("TriggerNow(a) = %v, want nil", err)
	}
	<-f.started
	if !s.Running("a") {
		t.Error("Running(a) = false during its sweep")
	}
	for _, ms := range [][]string{{"a"}, {"b", "a"}, nil} {
		if err := s.TriggerNow(ctx, ms); !errors.Is(err, schedule.ErrBusy) {
			t.Errorf("TriggerNow(%q) during sweep of a = %v, want ErrBusy", ms, err)
		}
	}
	// Another marketplace may run beside it.
	if err := s.TriggerNow(ctx, []string{"b"}); err != nil {
		t.Errorf("TriggerNow(b) = %v, want nil", err)
	}
	<-f.started
	// The schedule comes due while a and b are running: only c starts.
	now = t0.Add(time.Hour)
	s.Tick(ctx, now)
	<-f.started
	close(f.block)
	s.Wait()
	want := []string{"manual:a", "manual:b", "schedule:c"}
	if got := f.got(); !slices.Equal(got, want) {
		t.Errorf("runs = %q, want %q", got, want)
	}
	// Once finished, a can be swept again.
	f.started = nil
	if err := s.TriggerNow(ctx, []string{"a"}); err != nil {
		t.Errorf("TriggerNow(a) after its sweep = %v, want nil", err)
	}
	s.Wait()
	if err := s.TriggerNow(ctx, []string{"zz"}); !errors.Is(err, schedule.ErrUnknownMarketplace) {
		t.Errorf("TriggerNow(zz) = %v, want ErrUnknownMarketplace", err)
	}
}

func TestExclusiveRefusesAnyOverlap(t *testing.T) {
	f := &fakeSweeps{block: make(chan struct{}), started: make(chan struct{}, 10)}
	s, err := schedule.New(schedule.Options{
		Marketplaces: []string{"a", "b"}, Run: f.run, Exclusive: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.TriggerNow(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	<-f.started
	if err := s.TriggerNow(ctx, []string{"b"}); !errors.Is(err, schedule.ErrBusy) {
		t.Errorf("TriggerNow(b) with exclusive = %v, want ErrBusy", err)
	}
	close(f.block)
	s.Wait()
}

func TestStopCancelsRunningSweeps(t *testing.T) {
	f := &fakeSweeps{block: make(chan struct{}), started: make(chan struct{}, 10)}
	s, err := schedule.New(schedule.Options{Marketplaces: []string{"a"}, Run: f.run})
	if err != nil {
		t.Fatal(err)
	}
	reqCtx, cancelReq := context.WithCancel(context.Background())
	if err := s.TriggerNow(reqCtx, nil); err != nil {
		t.Fatal(err)
	}
	<-f.started
	cancelReq() // the HTTP request ending does not stop the sweep
	if !s.Running("a") {
		t.Error("sweep stopped with the request's context")
	}
	s.Stop()
	st := s.Statuses()
	if len(st) != 1 || st[0].Running || !strings.Contains(st[0].LastError, "canceled") {
		t.Errorf("Statuses() after Stop = %+v, want a cancelled, finished run", st)
	}
}

func TestNewRejectsBadSpecs(t *testing.T) {
	tests := []struct {
		name      string
		spec      string
		overrides map[string]string
	}{
		{"bad global", "every day", nil},
		{"bad override", "@every 1h", map[string]string{"a": "61 * * * *"}},
		{"unknown marketplace", "@every 1h", map[string]string{"zz": "@daily"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schedule.New(schedule.Options{Spec: tt.spec, Overrides: tt.overrides, Marketplaces: []string{"a"},
				Run: func(context.Context, []string, string) error { return nil }})
			if err == nil {
				t.Errorf("New(%q, %v) = nil error, want one", tt.spec, tt.overrides)
			}
		})
	}
	for _, ok := range []string{"", "off", "@every 6h", "@daily", "*/15 * * * *", "CRON_TZ=Europe/Paris 0 3 * * *"} {
		if err := schedule.Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", ok, err)
		}
	}
}

func TestLastRunFromSweeps(t *testing.T) {
	last := schedule.LastRunFromSweeps([]listing.Sweep{
		{ID: "1", Started: t0.Add(-5 * time.Hour)},
		{ID: "2", Started: t0.Add(-2 * time.Hour), Marketplaces: []string{"a"}},
		{ID: "3", Started: t0.Add(-9 * time.Hour), Marketplaces: []string{"b"}},
	})
	tests := []struct {
		m    string
		want time.Time
	}{
		{"a", t0.Add(-2 * time.Hour)},
		{"b", t0.Add(-5 * time.Hour)},
		{"c", t0.Add(-5 * time.Hour)},
	}
	for _, tt := range tests {
		if got, ok := last(tt.m); !ok || !got.Equal(tt.want) {
			t.Errorf("last(%s) = %v, %v, want %v", tt.m, got, ok, tt.want)
		}
	}
	if _, ok := schedule.LastRunFromSweeps(nil)("a"); ok {
		t.Error("last over no sweeps: ok = true")
	}
}
