package shard

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  string
	}{
		{"0/4", Shard{0, 4}, ""},
		{" 3/4 ", Shard{3, 4}, ""},
		{"0/1", All, ""},
		{"4/4", Shard{}, "index 4: want 0 to 3"},
		{"-1/4", Shard{}, "index -1"},
		{"0/0", Shard{}, "count 0"},
		{"1", Shard{}, "want I/N"},
		{"a/4", Shard{}, `index "a" is not a number`},
		{"1/b", Shard{}, `count "b" is not a number`},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := Parse(got.String()); err != nil || back != got {
			t.Errorf("Parse(String()) of %v = %v, %v", got, back, err)
		}
		if back, err := ParseDir(got.Dir()); err != nil || back != got {
			t.Errorf("ParseDir(%q) = %v, %v", got.Dir(), back, err)
		}
	}
	for _, bad := range []string{"shard-1", "shard-4-of-4", "soak", "shard-x-of-2"} {
		if _, err := ParseDir(bad); err == nil {
			t.Errorf("ParseDir(%q) accepted", bad)
		}
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want Shard
		set  bool
		err  string
	}{
		{nil, All, false, ""},
		{map[string]string{EnvShard: "1/3"}, Shard{1, 3}, true, ""},
		{map[string]string{EnvIndex: "2", EnvCount: "4"}, Shard{2, 4}, true, ""},
		// The explicit shard wins over the Job's.
		{map[string]string{EnvShard: "0/2", EnvIndex: "2", EnvCount: "4"}, Shard{0, 2}, true, ""},
		{map[string]string{EnvIndex: "2"}, Shard{}, false, "JOB_COMPLETIONS is not"},
		{map[string]string{EnvCount: "4"}, Shard{}, false, "JOB_COMPLETION_INDEX is not"},
		{map[string]string{EnvIndex: "4", EnvCount: "4"}, Shard{}, false, `"$JOB_COMPLETION_INDEX=4, $JOB_COMPLETIONS=4": index 4: want 0 to 3`},
		{map[string]string{EnvShard: "5"}, Shard{}, false, "$MTASTORM_SHARD"},
	} {
		got, set, err := FromEnv(func(k string) string { return tc.env[k] })
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("FromEnv(%v) error %v, want one containing %q", tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || set != tc.set {
			t.Errorf("FromEnv(%v) = %v, %v, %v; want %v, %v", tc.env, got, set, err, tc.want, tc.set)
		}
	}
}

// TestPartition: for every list length and shard count, the shards'
// selections are pairwise disjoint, their union is the whole list, each
// keeps list order, and sizes differ by at most one.
func TestPartition(t *testing.T) {
	for length := 0; length <= 13; length++ {
		list := make([]string, length)
		for i := range list {
			list[i] = fmt.Sprintf("seed-%d", i)
		}
		for count := 1; count <= 9; count++ {
			seen := map[string]Shard{}
			lo, hi := length, 0
			for idx := range count {
				sh := Shard{idx, count}
				got := Select(sh, list)
				if idx := sh.Indexes(length); len(idx) != len(got) {
					t.Fatalf("%d items, shard %v: Indexes %v, Select %v", length, sh, idx, got)
				} else {
					for k, i := range idx {
						if list[i] != got[k] {
							t.Fatalf("%d items, shard %v: Indexes %v, Select %v", length, sh, idx, got)
						}
					}
				}
				lo, hi = min(lo, len(got)), max(hi, len(got))
				for k, v := range got {
					if prev, dup := seen[v]; dup {
						t.Fatalf("%d items, %d shards: %s in shard %v and %v", length, count, v, prev, sh)
					}
					seen[v] = sh
					if k > 0 && indexOf(list, got[k-1]) >= indexOf(list, v) {
						t.Fatalf("%d items, shard %v: %v out of list order", length, sh, got)
					}
					if o := Owner(indexOf(list, v), count); o != sh {
						t.Fatalf("Owner(%s) = %v, selected by %v", v, o, sh)
					}
				}
			}
			if len(seen) != length {
				t.Fatalf("%d items, %d shards: union has %d", length, count, len(seen))
			}
			if length > 0 && hi-lo > 1 {
				t.Fatalf("%d items, %d shards: sizes from %d to %d", length, count, lo, hi)
			}
		}
	}
}

func indexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}
