//go:build !race

package repro

// raceDetector is true in a -race build (see race.go).
const raceDetector = false
