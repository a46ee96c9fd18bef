package main

import (
	"net/http"

	"github.com/otelkit/otelkit/otelbridge"
)

// devPages returns the development pages to mount and the Setup options
// they need.
func devPages() (map[string]http.Handler, []otelbridge.Option) {
	return nil, nil
}
