package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"

	"github.com/mtastorm/mtastorm/harness"
)

// startProfiles starts a CPU profile of the run into dir/cpu.pprof and asks
// the harness for a goroutine profile at the run's busiest moment (its middle
// fault toggle: every MTA, link and probe alive) into dir/goroutine.pprof.
// The stop function it returns ends the CPU profile and writes the
// allocations since the start into dir/allocs.pprof.
func startProfiles(dir string, opts *harness.Options) (func() error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return nil, err
	}
	opts.OnPeak = func() {
		f, err := os.Create(filepath.Join(dir, "goroutine.pprof"))
		if err != nil {
			return
		}
		_ = pprof.Lookup("goroutine").WriteTo(f, 0)
		_ = f.Close()
	}
	return func() error {
		pprof.StopCPUProfile()
		errCPU := cpu.Close()
		f, err := os.Create(filepath.Join(dir, "allocs.pprof"))
		if err != nil {
			return errors.Join(errCPU, err)
		}
		runtime.GC()
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err = errors.Join(errCPU, err); err != nil {
			return fmt.Errorf("write profiles into %s: %w", dir, err)
		}
		return nil
	}, nil
}
