// Package scenario loads, validates and renders mtastorm scenario files
// (DESIGN.md section 8).
//
// A scenario file is YAML. [Load] and [LoadBytes] walk the parsed
// [yaml.Node] tree rather than unmarshalling into structs, so that every
// problem — an unknown key, a bad value, a missing key, a duplicate key, a
// list where a mapping belongs — is reported with the file, line, column and
// key path it concerns, for example:
//
//	q.yaml:3:1: unknown key "sede" (did you mean "seed"?)
//	q.yaml:14:11: faults[1].down: invalid duration "150" (want e.g. 150ms)
//
// All problems in a file are collected into one [*Error]. List indexes in key
// paths count from 0.
//
// A loaded [Scenario] is fully resolved: built-in defaults, then the
// defaults block, then per-MTA overrides (timers merged key by key) are
// applied to every MTA; fault parameters are typed and checked against the
// keys each fault type declares in the faults registry (faults.Describe),
// with their declared defaults filled in.
// [Marshal] renders a Scenario back to YAML that Load accepts.
package scenario
