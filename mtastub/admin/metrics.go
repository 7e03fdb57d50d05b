package admin

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Metric names served on /metrics. Every metric carries the label mta.
const (
	MetricUp                   = "mtastub_up"
	MetricAssociations         = "mtastub_associations"
	MetricKCBs                 = "mtastub_kcbs"
	MetricKCBsLeaked           = "mtastub_kcbs_leaked"
	MetricQueueDepth           = "mtastub_queue_depth"
	MetricEvents               = "mtastub_events_total"
	MetricDeliveries           = "mtastub_deliveries_total"
	MetricDuplicatesSuppressed = "mtastub_duplicates_suppressed_total"
	MetricSubmitted            = "mtastub_submitted_total"
	MetricAcked                = "mtastub_acked_total"
	MetricResent               = "mtastub_resent_total"
	MetricRefused              = "mtastub_refused_total"
)

// collector computes the MTA's metrics at scrape time from a snapshot.
type collector struct {
	mta *mtastub.MTA

	up, assocs, kcbs, leaked, queue, events, deliveries, dups *prometheus.Desc
	submitted, acked, resent, refused                         *prometheus.Desc
}

func newCollector(m *mtastub.MTA) *collector {
	cl := prometheus.Labels{"mta": m.Name()}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, cl)
	}
	return &collector{
		mta:        m,
		up:         d(MetricUp, "1 when the MTA is running, 0 when it is stopped."),
		assocs:     d(MetricAssociations, "KCBs in state Associated (open associations)."),
		kcbs:       d(MetricKCBs, "KCBs other than the listener, by state.", "state"),
		leaked:     d(MetricKCBsLeaked, "KCBs not Idle with no live socket (leaked)."),
		queue:      d(MetricQueueDepth, "Messages not yet acknowledged by the peer, queued or in flight.", "peer"),
		events:     d(MetricEvents, "Event records written, by event id, since the process started.", "id"),
		deliveries: d(MetricDeliveries, "Messages delivered to the local user since the MTA last (re)started."),
		dups:       d(MetricDuplicatesSuppressed, "Transfers of an already delivered message, acknowledged as duplicates and not delivered again, since the MTA last (re)started."),
		submitted:  d(MetricSubmitted, "Messages submitted since the MTA last (re)started."),
		acked:      d(MetricAcked, "Messages acknowledged by the peer since the MTA last (re)started."),
		resent:     d(MetricResent, "Messages sent again on a later association since the MTA last (re)started."),
		refused:    d(MetricRefused, "Inbound transport connections refused for want of a KCB since the MTA last (re)started."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.assocs, c.kcbs, c.leaked, c.queue, c.events, c.deliveries,
		c.dups, c.submitted, c.acked, c.resent, c.refused} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counts := c.mta.Events().Counts()
	for _, id := range sortedIDs(counts) {
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(counts[id]), strconv.Itoa(id))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := c.mta.Snapshot(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	pool := poolOf(snap)
	ch <- prometheus.MustNewConstMetric(c.assocs, prometheus.GaugeValue, float64(pool.Associations))
	ch <- prometheus.MustNewConstMetric(c.leaked, prometheus.GaugeValue, float64(snap.Leaked))
	byState := map[kernel.State]int{}
	for _, k := range snap.KCBs {
		if k.Index > 0 {
			byState[k.State]++
		}
	}
	for _, st := range kernel.States() {
		ch <- prometheus.MustNewConstMetric(c.kcbs, prometheus.GaugeValue, float64(byState[st]), st.String())
	}
	for peer, n := range snap.Queues {
		ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(n), peer)
	}
	for _, x := range []struct {
		d *prometheus.Desc
		v int
	}{{c.deliveries, snap.Delivered}, {c.dups, snap.Duplicates}, {c.submitted, snap.Submitted},
		{c.acked, snap.Acked}, {c.resent, snap.Resent}, {c.refused, snap.Refused}} {
		ch <- prometheus.MustNewConstMetric(x.d, prometheus.CounterValue, float64(x.v))
	}
}
