package toxi

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// A disabled proxy has closed its listener. Had its port come from the
// kernel's ephemeral range (a ":0" listen), any outgoing connection or other
// ":0" listener on the machine could take it meanwhile, and Enable would
// then fail with "address already in use" — seen under heavy parallel
// load. So proxies listen on a port below the ephemeral range, which the
// kernel never hands out on its own.

// portBase is the lowest port a proxy is given.
const portBase = 10000

var portSeq atomic.Uint32

// ephemeralLow returns the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 32768
	}
	lo, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return lo
}

// stableListen returns host:port for a new proxy: a port that is free now
// and outside the ephemeral range, walked from an offset that differs per
// process so that parallel test processes rarely try the same one; or
// host:0 when the range leaves no room below it.
func stableListen(host string) string {
	span := ephemeralLow() - portBase
	if span < 1000 {
		return net.JoinHostPort(host, "0")
	}
	start := os.Getpid() * 7919
	for range 64 {
		port := portBase + (start+int(portSeq.Add(1)))%span
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		if ln, err := net.Listen("tcp", addr); err == nil {
			_ = ln.Close()
			return addr
		}
	}
	return net.JoinHostPort(host, "0")
}

// inUse reports whether err says the listen address is taken.
func inUse(err error) bool {
	return err != nil && strings.Contains(err.Error(), "address already in use")
}
