// Package repro reproduces a customer's MTA event log in the lab (DESIGN.md
// section 9): it imports the log, reduces it to a [Signature], searches
// generated scenarios for one whose runs give the same signature, shrinks it,
// and writes a scenario, a summary and a Ginkgo regression spec.
//
// # Import
//
// [Import] reads an Event Viewer CSV export (columns found by header name),
// `wevtutil qe /f:text` output or mtastorm's events.jsonl, keeps the
// MSExchangeMTA records and parses what their descriptions carry
// (association, entity, the [state svc flavor reason] tuple, control block
// index). Malformed input gives an [*ImportError] naming the line.
// [ImportSignature] streams: a [SignatureBuilder] takes each record as
// [ImportEach] reads it, so memory is bounded by the signature, not the log
// (a 100 MB export in about 32 MB of RSS); its sets are capped
// (MaxControlBlocks and the like) and count what they drop.
//
// # Signature
//
// A [Signature] holds, per event ID, the count, the rate per minute, when it
// was first seen and whether its entities are blank; the first-seen order;
// the control-block indexes named; the open errors in state 2; the IDs the
// stub's event catalogue does not know (NotModelled: no lab run can log
// them); and two indicators: Leak (1277 names the same control block more
// than once while opens fail in state 2 — the KCBs left OpenPending of KB
// Q152877) and StateCheckKB (a 1198 with the KB's tuple: state 0, service
// type 20, service flavor 2). Every MSExchangeMTA ID of the log is counted,
// the companions (9156, 9215, 9221, 1294, 9298/9299) included; the last
// banner's build number (Banner) and its catalogue build (Build), the
// restarts (a 9299 followed by a 9298) and 9156's configured counts too.
//
// # Score
//
// [Score](customer, run) is a weighted sum of four parts, each in [0, 1],
// over the compared IDs C: the core IDs {1004, 1008, 1198, 1277} and every
// other ID of the customer's log that the catalogue knows (IDs only the run
// logged, other than the core ones, are not compared: the stub logs
// companions a customer's build or export may not):
//
//	score = 0.45·presence + 0.15·order + 0.15·counts + 0.25·indicators
//
//	presence   = |{k ∈ C : present(customer, k) = present(run, k)}| / |C|
//	order      = share of pairs of compared IDs present in both logs whose
//	             first occurrences come in the same order (1 with one common
//	             ID, 0 with none)
//	counts     = mean over the common IDs of
//	             max(0, 1 − |log2(share_customer(k) / share_run(k))| / 3),
//	             where share(k) is k's fraction of the log's compared
//	             events; a lab run lasts seconds and the customer's log
//	             hours, so shares are compared, on a log scale, not counts
//	indicators = 0.75·[Leak agrees] + 0.25·[the customer's 1198 has the KB
//	             tuple ⇒ so has the run's]
//
// A run that lacks a catalogued ID the customer's log has ([Missing]) is not
// a reproduction whatever its other parts: its score is multiplied by 0.6,
// below the threshold by more than the mode margin. (A control-block
// shortage — 30 × 9156, 40 × 1004 — scored 1.000 against a plain refusal
// that logs only 1004; it now scores 0.52 and names 9156.)
//
// For a customer's log Leak is the heuristic above; for a lab run the
// search uses what the lab knows instead: a KCB was seen leaked and 1277
// was logged (an sp2 responder on a slow machine can log 1008s and refuse
// a crowd with 1277s that name one control block, which the heuristic would
// take for the defect).
//
// A run reproduces the log when its score is at least [Threshold] (0.75).
// The weights were fitted on the sample logs of testdata/ against recorded
// lab runs (testdata/runs; TestScoreMatrix pins the figures): the four
// Q152877-kind logs score 0.83–0.97 against the sp0 run that logs all their
// IDs (cycling, or latency above the transfer timer for the two with a
// 1198), 0.27–0.40 against sp2 cycling (which misses 1277) and 0.20–0.32
// against a plain refusal; the outage log (1004 only) scores 1 against a
// refusal under either build and 0.55 against sp0 cycling.
//
// # Accuracy out of sample
//
// The figure is leave-one-out top-1 accuracy over recorded lab runs
// (testdata/runs/lab: one run of every family under each of its builds):
// each log is diagnosed with the parameters (weights on a 0.05 grid,
// threshold 0.60–0.90) fitted on the others, by the search's decision rule
// (the best run names the KB entry through the family and build, as
// [Outcome.Diagnose] does; reproduced when it reaches the threshold and
// misses no catalogued ID).
//
// Over the catalogue (issue 14, TestLeaveOneOutAccuracyCatalogue): 24 logs
// — the five of testdata/ and 19 of testdata/oos, at least two for each of
// the eight entries of CATALOGUE.md C2 and C3; ten of them (manifest.json
// "issue": 14, for Q229643, Q232602, Q247419, Q166602, Q169143, Q170056
// and Q175354, with and without banners and restarts) were written from the
// catalogue and the KB articles and committed before anything was measured
// on them. A log with a banner is compared with each family's run under
// the banner's build (a family not recorded under it stands in with its run
// under a build that agrees on the family's defect, the same product first);
// a log with 9299 with the runs followed by B's restart, as the search runs
// them. Correct means the expected KB named first with the expected verdict
// (the RPC log: not reproduced, naming 9318).
//
//	as first measured (weights untouched)                 18/24 = 0.75
//	after two rule fixes, no weight refitted              21/24 = 0.88
//	shipped parameters: 22/24 on every log, 17/19 out of sample
//
// The two fixes, made after the first measurement and said so: the test
// compared logs with 9299 (Chicago, Frankfurt, Amsterdam, Austin) with runs
// that never restart, although the search restarts B in every plan for such
// a log (an error of the measurement, not of the search); and
// drop-mid-transfer under a build without Q232602 was named Q175354 though
// its fault is a refusal, which with 9215 in the log is Q170056 (Lisbon,
// Helsinki): a condition is now named by its plan's faults. No weight or
// threshold was changed. The confusion when each log is left out (rows:
// expected, columns: named first; none = not reproduced):
//
//	want \ got   Q152877 Q229643 Q232602 Q247419 Q175354 Q170056 Q169143 Q166602 none
//	Q152877 (7)        6       .       .       .       .       .       .       .    1
//	Q229643 (2)        .       2       .       .       .       .       .       .    .
//	Q232602 (2)        .       .       2       .       .       .       .       .    .
//	Q247419 (2)        .       .       .       1       .       .       .       .    1
//	Q175354 (4)        .       .       .       .       4       .       .       .    .
//	Q170056 (2)        .       .       .       .       .       2       .       .    .
//	Q169143 (2)        .       .       .       .       .       .       2       .    .
//	Q166602 (2)        .       1       .       .       .       .       .       1    .
//	none (1)           .       .       .       .       .       .       .       .    1
//
// Q152877 vs Q247419: never confused — both end in 1277 repeating a
// control block, but every Q152877 run logs 1008 (an open error at the
// responder) and no Q247419 log has one; Singapore (the responder's log
// alone, 1004 [3 27 2 5] then 1277) is named Q247419 with the shipped
// parameters (0.764) and falls below the threshold fitted without it
// (0.60 with other weights: 0.586): not reproduced. The responder-only
// Q152877 log (Zurich, no 1004) stays the old miss. Q232602 vs Q175354:
// never confused — 2035 is the difference (Cape Town's link-down log has
// 4284 + 4287 after a lost association, no 2035). Q229643 vs Q166602: the
// Milan shortage without a banner (1004 [3 20 1 4], then 9156) is named
// Q229643 on 5.5-sp2, as CATALOGUE.md warns (the same IDs; the score does
// not read tuples nor whether mail flows between the 9156s); Lyon's 4.0
// banner rules the 5.5 defect out and it is named Q166602; both Q229643
// logs are right. The test bounds these confusions at the measured counts
// and the accuracy at 0.87. End to end (`mtastorm repro` on each of the 24
// logs, 60 s budget, 2 cores) 21 get the expected diagnosis with hit_runs
// 3: not Milan (as above), Zurich, nor Amsterdam, where a pressure
// follow-up (12 senders: 1277 and 9156 without a leak) outscores the
// slice-short run 0.898 to 0.766 — the log's leak indicator knows only
// Q152877's open errors in state 2, not Q247419's responder aborts in
// state 3 — and its scenario fails verification. Not changed: it was seen
// on the held-out logs.
//
// Over the hypotheses of issue 11 alone (the seven families under the two
// 4.0 builds, the 14 logs of issue 11; TestLeaveOneOutAccuracy, judged by
// family and build), testdata/oos held nine customer logs then, written before any weight was
// looked at again (manifest.json gives the diagnosis each should get: the
// KB, reproduced or not, the build, the families that model it): Q152877 at
// three more sites (one the responder's log alone), two outages, a
// control-block shortage (9156), a flapping link on a build that cannot be
// told apart, connections reset by the network (9221), and RPC failures
// (9318, not modelled). TestLeaveOneOutAccuracy diagnoses each of the 14
// logs with the parameters (weights on a 0.05 grid, threshold 0.60–0.90)
// fitted on the other 13, against one recorded run of every family under
// each build (testdata/runs/lab), and asserts the top-1 accuracy:
//
//	before (the score of issue 11: core IDs only, no missing-ID rule,
//	        no reset family, "either" only above the threshold)   10/14 = 0.71
//	after  (this score, same weights and threshold)               13/14 = 0.93
//
// With the shipped parameters 12 of the 14 logs are diagnosed right, 7 of
// the 9 out of sample. The two misses: the responder-only log (no 1004:
// every lab run logs both ends of the link; best 0.625) and the shortage
// (best a pressure run at 0.731, which also logs 1277). The weights were
// not changed: a refit only lowers the threshold (0.70, or 0.60 to take the
// responder-only log), and no log of the set must be refused on its score
// alone, so nothing bounds a lower threshold from below.
//
// # Concurrency
//
// A candidate run is asleep on its timers most of its life, so the search
// keeps Options.Parallel runs in flight: a window over the candidate list
// that starts the next candidate as soon as one finishes, each run with its
// own MTAs and proxies (named by the candidate's index) on the shared
// Toxiproxy. Results are handed to the search in candidate order, never in
// completion order, and the stopping rule is read over that ordered prefix:
// candidates started past the point where it stops are cancelled and their
// runs dropped, so the explored set, and the winner, do not depend on which
// run finished first (the budget share, a wall-clock bound, still does).
// The hit rates of up to three contenders are measured in one wave when
// Parallel holds all their seeds and the wave holds at most four runs of
// one family (nine slow-link runs healing at once timed out the embedded
// Toxiproxy's API), and read in the contenders' order, so the
// choice is the one made measuring them in turn; shrinking tries Parallel
// steps at once and keeps the first in step order that still matches;
// verification is two runs at once.
//
// The default Parallel ([Machine.DefaultParallel]) is eight runs per CPU
// (one in a -race build), at most 32, within the descriptors left under
// RLIMIT_NOFILE ([RunFDs] = 128 a run, 64 kept back) and the memory
// available ([RunMemory] = 64 MiB a run); Search refuses a Parallel the
// machine cannot hold ([ErrResources]) before it starts anything. Eight per
// CPU: 30 sequential runs took 39.6 s of wall and 1.2 s of CPU, so eight
// runs at once keep a CPU about a quarter busy and their timers on time; in
// a -race build a run costs several times the CPU: 16 runs on 2 busy cores
// were seen to miss the transfer timer a 600 ms latency must outlast, and 4
// to time out Toxiproxy API calls.
// [RunPlans] is the explore step without its stopping rule; `mtastorm bench`
// times [BenchPlans] with it one at a time and at the default side by side.
//
// # Search
//
// [Search] tries scenario families (cycle+latency, refuse,
// truncate-inside-BIND, slice-long, latency-above-transfer, pressure,
// reset, and the KB families of scenarios/kb: slow-link for Q229643,
// drop-mid-transfer for Q232602, slice-short for Q247419, each with its
// template's timers), each with a small parameter grid, under the builds of
// [FamilyBuilds] — the Q152877 families under 4.0 (sp0) and 4.0-sp2 (sp2),
// a KB family under its defective build and the build that fixes it, the
// network conditions (refuse, reset, pressure) under both 4.0 builds and
// 5.5-sp4 (which logs them with 4284 + 4287) — and pools of 4 and 8 KCBs
// (4 only for the KB families). A log whose 9298/9299 banners name a build
// (Signature.Build: "Build 2448.4" is 5.5-sp2) runs every family under that
// build alone. The order (what the signature predicts each family logs
// under each build, testdata/runs/lab) only decides what runs first: every
// hypothesis the budget reaches is scored by running it. Every candidate is a generated scenario —
// senders A (or A1..An) → B, traffic from 0s, faults from 500ms, at most
// 6s — run with harness.Run on one shared Toxiproxy, Options.Parallel at a
// time (see Concurrency below).
// When the customer's log holds companion events every candidate runs with
// extended_events on (the stub logs them only then); when it shows the MTA
// stopped (9299) every candidate restarts B after the last heal. Families
// are tried in the order of how well the signature each is expected to give
// scores against the customer's, every candidate together with its twin in
// the other build. Exploring stops once a candidate scores 0.9 or more, its
// twin has run and a second plan matches under the same build, or 45% of
// the budget is spent (75% while no candidate has reached the threshold).
//
// That list is the initial batch. What follows is feedback-driven
// (CATALOGUE.md C6, [FollowUps]): unless the best run scores 0.95 or more
// and misses no ID of the log, up to two follow-up batches of at most
// eight plans, at most three of one family, are derived from the runs so
// far — when the best run missed catalogued IDs of the log, first the
// neighbours of the best run that did log some of them, then the families predicted to log them (under the
// banner's build, else the builds predicted to), every variant and pool
// size not run yet; then the neighbours of up to four best plans (a fault's
// span doubled or halved, its latency, delay or cycle phases ×1.5 or ×2/3,
// a cycle train half as long again, the pool doubled when the run logged a
// core ID the log has not, else halved, twice the traffic, two senders more
// or fewer). A batch is a function of the earlier runs (in the order they
// ran) and the seed, not of Parallel nor of timing, so the batches are the
// same in one process or in the finish phase after a merge of shards; no
// batch starts after 60% of the budget, and no follow-up is launched that
// would leave too little for the best candidate's twins, hit rate and
// verification. Outcome.FollowUps records each
// batch and why each plan was chosen. The follow-ups compete with the
// initial batch for the best run; the hit rates come after them.
// A run lost to an infrastructure failure (a port taken while a proxy was
// down, on a busy machine) costs only its candidate; the fourth such loss
// ends the search with an error.
//
// The mode is decided by the score margin alone: "either" when the best
// build's best score and the runner-up build's lie within 0.1 of each
// other, above the threshold or below (a plain outage is logged alike by
// every build: not the sp0 defect), else the build that scores higher;
// undecided when fewer than two builds ran (with only the 4.0 builds, when
// one had no run). The best candidate's twins are its family's other
// builds. A banner decides the mode: the log's build, no twin.
//
// The hit rate of the best candidates (of the decided build, any for
// "either"; up to three) is then measured in turn over Options.Seeds (at
// least [MinSeeds] = 3) further seeds, the run that found the candidate not
// counted, until one hits in at least 2 of 3; summary.json records it as
// hit_rate, hits and hit_runs. A measurement the budget cannot pay for is
// not started, and a candidate without one is not a reproduction (there is
// no 1/1 fallback). The chosen candidate is shrunk (drop a fault, halve a
// cycle train or a fault's span, halve the traffic, fewer KCBs or senders,
// while the run keeps the same core IDs, the same leak indicator and a
// score within 0.05 of the best), and the result is written as a scenario
// with an expectation for every catalogued ID of the customer's log that
// every hit logged (and a max of 0 for core IDs neither logged); the IDs it
// cannot expect are listed as unreproduced, with why. A leaking candidate's
// scenario restarts B (the KB workaround) once the candidate's own run
// would have ended, and must then deliver everything. It is verified by
// two more runs at once (both must pass); if the shrunk scenario fails, the
// unshrunk one is verified instead.
//
// # Diagnosis
//
// [Outcome.Diagnose] ranks the hypotheses (diagnosis.json, CATALOGUE.md
// C6): one per KB entry and build, from the best explored run of each. A
// family stands for a defect where its build carries the defect it
// triggers (the Q152877 families under 4.0, slow-link Q229643 and
// drop-mid-transfer Q232602 under 5.5-sp2, slice-short Q247419 under
// 5.5-sp3), else for the network condition it makes (reset Q169143,
// pressure Q166602, refuse Q170056 when the log has 9215, anything else
// Q175354). The search's chosen candidate comes first when the log is
// reproduced, then by score. The contenders have a measured hit rate, and
// so do the three runner-ups the CLI shows: after verification (so that
// they never cost the top a shrinking step) each runs Seeds further seeds,
// in waves within --parallel, counted by the top's rule (at least
// Threshold, no catalogued ID missing); a runner-up whose seeds do not fit
// in what is left of the budget runs nothing and keeps hit_runs 0 with
// hit_not_measured "budget" ("hit rate not measured (budget)").
// Exploring does not stop before every (KB, build) hypothesis of the
// candidates has had a run (or the explore share of the budget is spent).
// A 5.5-sp2 repro scenario restarts the senders with B (its defects stall
// the initiator). Outcome.String's first line is the top hypothesis: its
// KB, title, build and the service pack that fixes it; for a log no
// hypothesis reproduces it begins "NOT reproduced" and names the IDs the
// closest hypothesis did not produce (`mtastorm repro` prints it first on
// stdout; what the log holds and the progress go to stderr).
//
// The log is reproduced when the best candidate scores at least the
// threshold (so it missed no catalogued ID), hit in at least half of at
// least three further seeds, its scenario passed verification, and the log
// has no ID the stub does not model; otherwise Outcome.Reason (summary.json
// "reason") says why, naming the missing and not-modelled IDs.
//
// The budget is strict: a run is launched only if its scenario duration
// plus a setup allowance fits in what is left, keeping back the time the
// verification needs (while shrinking, twice: the shrunk scenario's and,
// should it fail, the unshrunk one's); Outcome.Launches records each
// launch and what it counted on.
//
// # Shards
//
// A search is two phases. Explore scores the initial hypothesis batch:
// every candidate of [Candidates] for the log's signature and the seed, a
// list every process computes alike. Finish is all the rest: it replays
// the stopping rule over the batch's results in candidate order (without
// the clock: a function of the scores alone), runs the follow-up batches
// and the best candidate's twins if the batch did not, decides the mode, measures the hit-rate
// seeds of the top hypotheses, shrinks, verifies and ranks. [Search] runs
// both in one process; [ExploreShard] runs explore for one slice of the
// batch and [Merge] runs finish over the slices. Finish is one function,
// so the same trials give the same diagnosis: TestShardsMergeAsSearch runs
// a lab whose runs depend on their scenario and seed alone and checks
// that 1, 3 and 4 shards merged write diagnosis.json, repro.yaml, the spec
// and summary.json (clock fields aside) byte for byte as Search does, with
// and without an early stop, follow-up batches included: they are chosen
// from the batch's results ([FollowUps]) and run in finish.
//
// A [Shard] I/N owns the candidates of index i with i % N == I
// (round-robin: the batch is ordered by promise and groups each family's
// variants, so dealing it out spreads the promising and the long runs, and
// slices differ by one candidate at most). `mtastorm repro LOG --shard
// I/N`, or JOB_COMPLETION_INDEX and JOB_COMPLETIONS (a Kubernetes Indexed
// Job; an explicit --shard wins, one variable without the other or a bad
// value is an error naming it), writes DIR/shard-I-of-N/shard.json
// ([ShardResult]): the shard, the seed, the scenario name, the customer's
// signature and its SHA-256 fingerprint, the batch's length and the
// SHA-256 of its candidates ([BatchHash]: index, description, key, build,
// seed), the indexes it owns, and per run its score, run signature and
// counts. A shard runs its whole slice (it cannot see the others' scores);
// the merge discards what lies past the single process's stop. It
// measures no hit rate: the merge does, within its own --budget.
//
// `mtastorm repro merge DIR...` ([ReadShard], [CheckShards], [Merge])
// refuses, with [ErrShards] (exit 2) naming the directories: a directory
// without a whole shard.json (version, signature matching its fingerprint,
// trials within its slice), shards of different logs, seeds, counts or
// hypothesis lists, a missing or duplicate index, and a batch the merging
// mtastorm computes differently from the shards' (another version). The
// clock part of the stopping rule (the explore share of the budget) is not
// replayed, and the merge's --budget starts with the merge: where the
// single process's budget cuts exploring, the follow-ups or the hit rates
// short, the merge does not.
//
// Lab runs are real time, so the same seed does not always give the same
// scores: what a run logs depends on the machine keeping millisecond
// timers. Seen on this 2-core machine, one process after another: the
// Paris log's latency-600ms sp0 run logged its 1198 in two of three
// processes (score 0.832, else 0.480 and not reproduced); the share of
// each ID a run logs moves with how many retries fit, so a score moves in
// the third decimal (mixed.csv's cycle+latency sp0 0.983 or 0.980, a
// slice-short run under the outage 0.659 or 0.661); a verification run
// may fail in one process and not in another (mixed.csv, cycle+latency:
// 0 × 1277 at B once). A merge differs from a single process as two
// single processes do. TestReproShardsMergeAsOneProcess (cmd/mtastorm,
// long) diagnoses outage.csv and mixed.csv both ways with the built
// binary, 4 shard processes at once at --parallel 4 (the 16 runs at once
// of the single process), and compares what repeats: the top hypothesis
// (KB, build, hit rate, hit_runs), the (KB, build) hypotheses ranked, every
// score within 0.02, the verdict unless a verification run failed (each
// difference is logged). ci/shards.sh does the same for a developer and
// prints the wall times: on 2 busy cores (load 8) the outage log took
// 22.2 s in one process and 14.5 s for 4 shards at once plus 8.0 s of
// merge; mixed.csv 31.0 s against 15.0 s + 14.1 s (at load 3.5: 22.1 s
// against 14.5 s + 8.0 s, 21.9 s against 15.0 s + 11.8 s). At the same 16
// runs in flight one machine gains nothing; the shards' part divides by
// the machines they get (4 shards at --parallel 16 each, 64 runs in flight
// on these 2 cores: 5.7 s + 8.0 s for the outage log, the same ranking;
// one after another at --parallel 4: 52.4 s).
package repro
