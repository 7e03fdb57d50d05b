package kernel

import (
	"errors"
	"fmt"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// connectRequest is the CR an initiator sends from KCB srcRef on a new
// transport connection to peer, offering frames of up to frameMax bytes.
func connectRequest(srcRef, frameMax int, callingTSAP, peer string) minip1.Unit {
	return minip1.Unit{Kind: minip1.KindCR, SrcRef: uint16(srcRef), TPDUSize: log2(frameMax),
		CallingTSAP: callingTSAP, CalledTSAP: peer}
}

// bindRequest is the BIND an initiator whose DN is dn sends once CC arrives.
func bindRequest(dn string, assoc, window int) minip1.Unit {
	return minip1.Unit{Kind: minip1.KindBind, MTAName: dn, AssocID: uint32(assoc), Window: uint8(window)}
}

// callingTSAP is the calling TSAP of an MTA's n-th transport connection to
// a peer since it started (n counts from 1).
func callingTSAP(name string, n int) string { return fmt.Sprintf("%s.%d", name, n) }

// OpeningBytes returns how many bytes an MTA configured by cfg writes on its
// first transport connection to peer up to the end of its BIND: its CR
// frame and its BIND frame, built and encoded as the kernel sends them. A
// stream cut one byte earlier ("CR + BIND − 1") leaves the responder in
// OpenPending waiting for a BIND that never completes. Zero fields of cfg
// take their defaults, as in Start; only Name, Org, Site, Window and
// FrameMax matter.
func OpeningBytes(cfg Config, peer string) (int, error) {
	if cfg.Name == "" {
		return 0, errors.New("kernel: opening bytes: name is empty")
	}
	if err := cfg.withDefaults(); err != nil {
		return 0, err
	}
	n := 0
	for _, u := range []minip1.Unit{
		connectRequest(1, cfg.FrameMax, callingTSAP(cfg.Name, 1), peer),
		bindRequest(eventlog.DN(cfg.Org, cfg.Site, cfg.Name), 1, cfg.Window),
	} {
		l, err := minip1.EncodedLen(&u)
		if err != nil {
			return 0, fmt.Errorf("kernel: %s: opening bytes to %s: %w", cfg.Name, peer, err)
		}
		n += l
	}
	return n, nil
}
