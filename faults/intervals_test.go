package faults

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

func actMS(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func actIv(from, to int) Interval { return Interval{actMS(from), actMS(to)} }

func TestScheduleActivity(t *testing.T) {
	lat := &toxi.Toxic{Name: "f1-latency", Type: "latency"}
	lat2 := &toxi.Toxic{Name: "f1-latency-2", Type: "latency"}
	slow := &toxi.Toxic{Name: "f3-slow_close", Type: "slow_close"}
	sched := &Schedule{Toggles: []Toggle{
		{Offset: actMS(1000), Link: "A->B", Fault: 0, Type: "refuse", Action: ActDisable},
		{Offset: actMS(1200), Link: "A->B", Fault: 0, Type: "refuse", Action: ActDisable}, // already down: no new start
		{Offset: actMS(1500), Link: "B->A", Fault: 1, Type: "latency", Action: ActAddToxic, Toxic: lat},
		{Offset: actMS(1600), Link: "B->A", Fault: 1, Type: "latency", Action: ActAddToxic, Toxic: lat2},
		{Offset: actMS(1700), Link: "B->A", Fault: 1, Type: "latency", Action: ActUpdateToxic, Toxic: lat},
		{Offset: actMS(2000), Link: "A->B", Fault: 0, Type: "refuse", Action: ActEnable, Heal: true},
		{Offset: actMS(2100), Link: "B->A", Fault: 1, Type: "latency", Action: ActRemoveToxic, Toxic: lat},
		{Offset: actMS(2500), Link: "B->A", Fault: 1, Type: "latency", Action: ActRemoveToxic, Heal: true, Toxic: lat2},
		// A composite fault: two types under one index, in order of first appearance.
		{Offset: actMS(3000), Link: "B->A", Fault: 2, Type: "reset", Action: ActDisable},
		{Offset: actMS(3100), Link: "B->A", Fault: 2, Type: "blackhole", Action: ActEnable}, // not down: nothing acts
		{Offset: actMS(3200), Link: "B->A", Fault: 2, Type: "reset", Action: ActEnable},
		{Offset: actMS(3300), Link: "B->A", Fault: 2, Type: "reset", Action: ActDisable},
		{Offset: actMS(3400), Link: "B->A", Fault: 2, Type: "reset", Action: ActEnable, Heal: true},
		// Healed on paper, but its toxic is never removed: it acts to the end.
		{Offset: actMS(3500), Link: "A->B", Fault: 3, Type: "slow_close", Action: ActAddToxic, Toxic: slow},
		{Offset: actMS(3600), Link: "A->B", Fault: 3, Type: "slow_close", Action: ActUpdateToxic, Toxic: slow, Heal: true},
		// Never healed: runs to the end.
		{Offset: actMS(3900), Link: "A->B", Fault: 4, Type: "blackhole", Action: ActDisable},
	}}
	end := actMS(5000)
	cases := []struct {
		link string
		want []Activity
	}{
		{"A->B", []Activity{
			{Fault: 0, Type: "refuse", Span: actIv(1000, 2000), Acting: []Interval{actIv(1000, 2000)}},
			{Fault: 3, Type: "slow_close", Span: actIv(3500, 5000), Acting: []Interval{actIv(3500, 5000)}, Updates: []time.Duration{actMS(3600)}},
			{Fault: 4, Type: "blackhole", Span: actIv(3900, 5000), Acting: []Interval{actIv(3900, 5000)}},
		}},
		{"B->A", []Activity{
			// Two toxics of one fault overlap: one acting stretch.
			{Fault: 1, Type: "latency", Span: actIv(1500, 2500), Acting: []Interval{actIv(1500, 2500)}, Updates: []time.Duration{actMS(1700)}},
			{Fault: 2, Type: "reset", Span: actIv(3000, 3400), Acting: []Interval{actIv(3000, 3200), actIv(3300, 3400)}},
			// Never acted, never healed: there until the end.
			{Fault: 2, Type: "blackhole", Span: actIv(3100, 5000)},
		}},
		{"C->D", nil},
	}
	for _, c := range cases {
		if got := sched.Activity(c.link, end); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Activity(%s):\n got %+v\nwant %+v", c.link, got, c.want)
		}
	}
	if got := (*Schedule)(nil).Activity("A->B", end); got != nil {
		t.Errorf("nil schedule: %+v", got)
	}
}

func TestMergeIntervals(t *testing.T) {
	cases := []struct{ in, want []Interval }{
		{nil, nil},
		{[]Interval{actIv(3000, 4000), actIv(1000, 2000), actIv(1500, 2500)}, []Interval{actIv(1000, 2500), actIv(3000, 4000)}},
		{[]Interval{actIv(2000, 3000), actIv(1000, 2000)}, []Interval{actIv(1000, 3000)}}, // touching
		{[]Interval{actIv(1000, 5000), actIv(2000, 3000), actIv(1000, 1500)}, []Interval{actIv(1000, 5000)}},
		{[]Interval{actIv(1000, 1000), actIv(1001, 1002)}, []Interval{actIv(1000, 1000), actIv(1001, 1002)}},
	}
	for _, c := range cases {
		in := slices.Clone(c.in)
		if got := MergeIntervals(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("MergeIntervals(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("MergeIntervals changed its input: %v, was %v", c.in, in)
		}
	}
}
