package toxi

import (
	"context"
	"os"
	"testing"

	"github.com/mtastorm/mtastorm/internal/testkit"
)

// With TOXIPROXY_URL set (ci/external.sh starts a toxiproxy-server built
// from the module), the contract also runs against that external server,
// which it takes over: every mtastorm- proxy on it is removed.
func init() {
	url := os.Getenv(EnvURL)
	if url == "" {
		return
	}
	backends = append(backends, struct {
		name string
		open func(t *testing.T) Backend
	}{"external", func(t *testing.T) Backend {
		r, err := NewRemote(testkit.Context(t), url, RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The contract uses fixed proxy names: start and end each case clean.
		// A case may close r itself, so cleaning uses a client of its own.
		cleaner, err := NewRemote(testkit.Context(t), url, RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		clean := func() {
			if _, err := cleaner.RemovePrefix(context.Background(), ProxyPrefix); err != nil {
				t.Errorf("clean external server: %v", err)
			}
		}
		clean()
		t.Cleanup(func() {
			clean()
			_ = r.Close(context.Background())
			_ = cleaner.Close(context.Background())
		})
		return r
	}})
}
