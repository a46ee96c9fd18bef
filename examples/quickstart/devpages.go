package main

import (
	"net/http"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/otelbridge"
)

// devPages returns the development pages to mount and the Setup options
// they need: the /dev/errors page of captured errors, fed by the exception
// records of the logger provider. It answers loopback clients only.
func devPages() (map[string]http.Handler, []otelbridge.Option) {
	tracker := errtrack.New()
	page := tracker.Handler()
	pages := map[string]http.Handler{
		errtrack.DefaultPrefix:       page,
		errtrack.DefaultPrefix + "/": page,
	}
	return pages, []otelbridge.Option{otelbridge.WithLogProcessor(tracker)}
}
