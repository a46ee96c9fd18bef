// Package e2e holds the end-to-end tests of otelkit's collector path. It is a
// module of its own so that the collector's module graph (pdata, compose-go)
// never reaches the root go.mod of otelkit.
//
// # Collector test
//
// TestCollectorEndToEnd starts the distribution built by collector/build.sh
// (or the binary named by OTELKIT_COLLECTOR_BIN) with collector/config.yaml,
// overriding only ports and file paths through the environment, runs the
// quickstart service (examples/quickstart -demo) against it over OTLP/HTTP,
// and decodes the JSONL files the collector's file exporters wrote with
// go.opentelemetry.io/collector/pdata.
//
// # Compose test
//
// TestComposeFile loads docker-compose.yml with compose-go, checks pinned
// images, ports and mounted files, and that the Grafana dashboards reference
// the provisioned data sources. No Docker engine is needed.
package e2e
