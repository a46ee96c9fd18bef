package main

import (
	"net/http"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/otelbridge"
)

// devPages returns the development pages to mount and the Setup options
// they need: the /dev/errors page of captured errors, fed by the exception
// records of the logger provider. It answers loopback clients only
// (errtrack.AllowLoopback): the quickstart runs on a developer's machine,
// with no reverse proxy in front of it.
func devPages() (map[string]http.Handler, []otelbridge.Option) {
	tracker := errtrack.New()
	page := tracker.Handler(errtrack.AllowLoopback())
	pages := map[string]http.Handler{
		errtrack.DefaultPrefix:       page,
		errtrack.DefaultPrefix + "/": page,
	}
	return pages, []otelbridge.Option{otelbridge.WithLogProcessor(tracker)}
}
