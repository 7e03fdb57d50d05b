package faults

import (
	"context"
	"errors"
	"fmt"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// Apply carries out one toggle on proxy through backend b.
func Apply(ctx context.Context, b toxi.Backend, proxy string, t Toggle) error {
	var err error
	switch t.Action {
	case ActDisable:
		err = b.Disable(ctx, proxy)
	case ActEnable:
		err = b.Enable(ctx, proxy)
	case ActAddToxic:
		err = b.AddToxic(ctx, proxy, *t.Toxic)
	case ActUpdateToxic:
		if err = b.RemoveToxic(ctx, proxy, t.Toxic.Name); err == nil {
			err = b.AddToxic(ctx, proxy, *t.Toxic)
		}
	case ActRemoveToxic:
		err = b.RemoveToxic(ctx, proxy, t.Toxic.Name)
	default:
		err = fmt.Errorf("unknown action %q", t.Action)
	}
	if err != nil {
		return fmt.Errorf("faults: %s %s at %s: %w", t.Type, t.Link, t.At, err)
	}
	return nil
}

// Heal undoes whatever toggles has left applied on proxy by time of the
// last toggle applied: the proxy enabled and every toxic removed.
func Heal(ctx context.Context, b toxi.Backend, proxy string) error {
	infos, err := b.Proxies(ctx)
	if err != nil {
		return fmt.Errorf("faults: heal %s: %w", proxy, err)
	}
	for _, p := range infos {
		if p.Name != proxy {
			continue
		}
		for _, tx := range p.Toxics {
			if err := b.RemoveToxic(ctx, proxy, tx.Name); err != nil {
				return fmt.Errorf("faults: heal %s: %w", proxy, err)
			}
		}
		if !p.Enabled {
			if err := b.Enable(ctx, proxy); err != nil {
				return fmt.Errorf("faults: heal %s: %w", proxy, err)
			}
		}
	}
	return nil
}

// HealAll heals every proxy of names as Heal does, from one listing of the
// backend's proxies instead of one per proxy (a 400-link run has 800
// proxies with their probe twins: listing them all for each would cost
// 800 × 800). Only the proxies with a toxic or disabled are called on; it
// returns every failure, joined.
func HealAll(ctx context.Context, b toxi.Backend, names []string) error {
	infos, err := b.Proxies(ctx)
	if err != nil {
		return fmt.Errorf("faults: heal: %w", err)
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	var errs []error
	for _, p := range infos {
		if !want[p.Name] {
			continue
		}
		for _, tx := range p.Toxics {
			if err := b.RemoveToxic(ctx, p.Name, tx.Name); err != nil {
				errs = append(errs, fmt.Errorf("faults: heal %s: %w", p.Name, err))
			}
		}
		if !p.Enabled {
			if err := b.Enable(ctx, p.Name); err != nil {
				errs = append(errs, fmt.Errorf("faults: heal %s: %w", p.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}
