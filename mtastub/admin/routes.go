package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// route is one endpoint of the admin API: the server registers it and the
// client requests it, so the two cannot name different paths.
type route struct {
	method string
	// pattern is the path as http.ServeMux reads it; {name} is a wildcard.
	pattern string
}

// The endpoints of the admin API (DESIGN.md section 10).
var (
	routeStatus     = route{http.MethodGet, "/v1/status"}
	routeKCBs       = route{http.MethodGet, "/v1/kcbs"}
	routeEvents     = route{http.MethodGet, "/v1/events"}
	routeSubmit     = route{http.MethodPost, "/v1/messages"}
	routeDeliveries = route{http.MethodGet, "/v1/deliveries"}
	routePeer       = route{http.MethodPut, "/v1/peers/{name}"}
	routeRestart    = route{http.MethodPost, "/v1/restart"}
	routeMetrics    = route{http.MethodGet, "/metrics"}
)

// routes lists every endpoint; New registers each.
var routes = []route{routeStatus, routeKCBs, routeEvents, routeSubmit, routeDeliveries, routePeer, routeRestart, routeMetrics}

// muxPattern is the route as http.ServeMux registers it: "GET /v1/status".
func (r route) muxPattern() string { return r.method + " " + r.pattern }

// path returns the pattern with its wildcards replaced, in order, by args,
// each escaped as one path segment. Extra args are ignored and missing
// ones leave an empty segment.
func (r route) path(args ...string) string {
	segs := strings.Split(r.pattern, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			v := ""
			if len(args) > 0 {
				v, args = args[0], args[1:]
			}
			segs[i] = url.PathEscape(v)
		}
	}
	return strings.Join(segs, "/")
}

// String returns the route as "METHOD PATTERN".
func (r route) String() string { return r.muxPattern() }

// routeMethods returns the methods the routes use, each once, in the order
// first used.
func routeMethods() []string {
	var ms []string
	for _, r := range routes {
		if !slices.Contains(ms, r.method) {
			ms = append(ms, r.method)
		}
	}
	return ms
}
