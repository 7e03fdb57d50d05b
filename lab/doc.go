// Package lab holds the checks of the lab's container topology: its tests
// load docker-compose.yml (at the module root) with compose-go and check
// that it runs the toxiproxy-server, the two stub MTAs and the runner as
// README's "Running the lab across machines" describes, and that the stubs'
// flags give them the MTAs of the scenario the runner plays
// (scenarios/compose/q152877.yaml). No Docker engine is needed: CI runs the
// same topology as local processes with ci/lab.sh.
package lab
