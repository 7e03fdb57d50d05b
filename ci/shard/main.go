// Command shard prints the shard a CI script runs as, "I N", for bash to
// read: from its argument "I/N" when given (ci/nightly.sh --shard I/N),
// else $MTASTORM_SHARD, else a Kubernetes Indexed Job's
// $JOB_COMPLETION_INDEX and $JOB_COMPLETIONS, else "0 1" (internal/shard).
// A malformed shard exits 2 with the reason.
package main

import (
	"fmt"
	"os"

	"github.com/mtastorm/mtastorm/internal/shard"
)

func main() {
	var (
		sh  shard.Shard
		err error
	)
	switch len(os.Args) {
	case 1:
		sh, _, err = shard.FromEnv(os.Getenv)
	case 2:
		sh, err = shard.Parse(os.Args[1])
	default:
		err = fmt.Errorf("usage: shard [I/N]")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(sh.Index, sh.Count)
}
