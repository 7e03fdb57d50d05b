//go:build race

package repro

// raceDetector is true in a -race build: each run then costs the CPU
// several times what it costs otherwise, and the default parallelism is
// cut to match (see Machine.DefaultParallel).
const raceDetector = true
