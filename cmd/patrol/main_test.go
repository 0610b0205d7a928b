package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/patrol-dev/patrol/demomarket"
)

func TestMain(m *testing.M) {
	// The crash test runs this binary as patrol itself.
	if os.Getenv("PATROL_TEST_MAIN") == "1" {
		main()
		return
	}
	testscript.Main(m, map[string]func(){"patrol": main})
}

// TestScripts runs the CLI scripts in testdata/script. Each script gets a
// demo marketplace of its own on loopback and a config for it in
// $WORK/demo/patrol.yaml ($DEMO_CONFIG), so scripts exercise real sweeps.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			market := demomarket.New(demomarket.Options{Seed: 1})
			srv, err := demomarket.Start(context.Background(), market, "127.0.0.1:0")
			if err != nil {
				return err
			}
			env.Defer(func() { srv.Close() })
			cfg, err := demomarket.WriteConfig(filepath.Join(env.WorkDir, "demo"), srv.URL())
			if err != nil {
				return err
			}
			env.Setenv("DEMO_CONFIG", cfg)
			env.Setenv("DEMO_URL", srv.URL())
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
	})
}
