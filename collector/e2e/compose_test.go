package e2e_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"
)

// TestComposeFile validates docker-compose.yml and what it mounts without a
// Docker engine: compose-go loads and normalises the file the way
// `docker compose` does.
func TestComposeFile(t *testing.T) {
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
	)
	require.NoError(t, err)
	project, err := opts.LoadProject(t.Context())
	require.NoError(t, err)

	require.ElementsMatch(t, []string{"quickstart", "collector", "victorialogs", "victoriametrics", "jaeger"}, project.ServiceNames())
	version := collectorVersion(t, root)

	t.Run("images pinned", func(t *testing.T) {
		for name, svc := range project.Services {
			assertPinned(t, name, svc.Image)
		}
		assert.Equal(t, "otel/opentelemetry-collector-contrib:"+strings.TrimPrefix(version, "v"),
			project.Services["collector"].Image, "the contrib image runs the builder manifest's version")
		// The backends run the versions scripts/backends.sh builds and CI
		// tests (Jaeger's image is tagged with its v2 release).
		built := backendVersions(t, root)
		assert.Equal(t, "victoriametrics/victoria-logs:"+built["victorialogs_version"], project.Services["victorialogs"].Image)
		assert.Equal(t, "victoriametrics/victoria-metrics:"+built["victoriametrics_version"], project.Services["victoriametrics"].Image)
		assert.Equal(t, "v1.76.0", built["jaeger_version"], "the jaeger image tag below is the v2 release of this module version")
		assert.Equal(t, "jaegertracing/jaeger:2.13.0", project.Services["jaeger"].Image)
	})

	t.Run("quickstart build", func(t *testing.T) {
		b := project.Services["quickstart"].Build
		require.NotNil(t, b)
		assert.Equal(t, root, b.Context)
		dockerfile := filepath.Join(b.Context, b.Dockerfile)
		require.FileExists(t, dockerfile)
		data, err := os.ReadFile(dockerfile)
		require.NoError(t, err)
		from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(string(data), -1)
		require.Len(t, from, 2, "a multi-stage build")
		for _, m := range from {
			assertPinned(t, "Dockerfile", m[1])
		}
		assert.Contains(t, string(data), "./examples/quickstart")

		// Each port compose publishes is one the image exposes and one the
		// service listens on at 0.0.0.0 (its flags default to 127.0.0.1,
		// which a published port cannot reach): -addr for HTTP, -grpc-addr
		// for gRPC.
		expose := regexp.MustCompile(`(?m)^EXPOSE\s+(.+)$`).FindStringSubmatch(string(data))
		require.NotNil(t, expose, "the Dockerfile has an EXPOSE line")
		entry := regexp.MustCompile(`(?m)^ENTRYPOINT\s+(.+)$`).FindStringSubmatch(string(data))
		require.NotNil(t, entry, "the Dockerfile has an ENTRYPOINT")
		flags := map[uint32]string{8080: `"-addr", "0.0.0.0:8080"`, 9090: `"-grpc-addr", "0.0.0.0:9090"`}
		for _, p := range project.Services["quickstart"].Ports {
			assert.Contains(t, strings.Fields(expose[1]), strconv.FormatUint(uint64(p.Target), 10), "EXPOSE lists %d", p.Target)
			flag, ok := flags[p.Target]
			if assert.True(t, ok, "port %d is a known quickstart listener", p.Target) {
				assert.Contains(t, entry[1], flag, "the entrypoint listens on 0.0.0.0:%d", p.Target)
			}
			assert.Equal(t, strconv.FormatUint(uint64(p.Target), 10), p.Published, "port %d is published as itself", p.Target)
		}
	})

	t.Run("ports", func(t *testing.T) {
		want := map[string][]uint32{
			"quickstart":      {8080, 9090},
			"collector":       {4317, 4318, 13133},
			"victorialogs":    {9428},
			"victoriametrics": {8428},
			"jaeger":          {16686},
		}
		for name, targets := range want {
			var got []uint32
			for _, p := range project.Services[name].Ports {
				assert.NotEmpty(t, p.Published, "%s: port %d is published", name, p.Target)
				got = append(got, p.Target)
			}
			assert.ElementsMatch(t, targets, got, name)
		}
	})

	t.Run("mounted files exist", func(t *testing.T) {
		for name, svc := range project.Services {
			for _, v := range svc.Volumes {
				if v.Type != types.VolumeTypeBind {
					continue
				}
				_, err := os.Stat(v.Source)
				assert.NoError(t, err, "%s mounts %s", name, v.Source)
				assert.True(t, v.ReadOnly, "%s mounts %s read-only", name, v.Source)
			}
		}
	})

	t.Run("collector runs collector/config.yaml", func(t *testing.T) {
		svc := project.Services["collector"]
		target := bindTarget(t, svc, filepath.Join(root, "collector", "config.yaml"))
		assert.Contains(t, svc.Command, "--config="+target)

		// Every OTELKIT_* variable the service sets is one the config reads.
		config, err := os.ReadFile(filepath.Join(root, "collector", "config.yaml"))
		require.NoError(t, err)
		for k := range svc.Environment {
			assert.Contains(t, string(config), "${env:"+k+":-", "collector environment %s", k)
		}
		assert.Equal(t, "http://collector:4318", *project.Services["quickstart"].Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
	})

	t.Run("jaeger runs collector/jaeger.yaml", func(t *testing.T) {
		svc := project.Services["jaeger"]
		target := bindTarget(t, svc, filepath.Join(root, "collector", "jaeger.yaml"))
		assert.Contains(t, svc.Command, "--config="+target)
	})

	t.Run("collector sends to the backends", func(t *testing.T) {
		env := project.Services["collector"].Environment
		assert.Equal(t, "http://victorialogs:9428/insert/opentelemetry", *env["OTELKIT_AUDIT_OTLP_ENDPOINT"])
		assert.Equal(t, "http://victorialogs:9428/insert/opentelemetry", *env["OTELKIT_LOGS_OTLP_ENDPOINT"])
		assert.Equal(t, "http://victoriametrics:8428/opentelemetry", *env["OTELKIT_METRICS_OTLP_ENDPOINT"])
		assert.Equal(t, "jaeger:4317", *env["OTELKIT_TRACES_OTLP_ENDPOINT"])
	})
}

// backendVersions reads the pinned versions (name_version=v…) of
// scripts/backends.sh.
func backendVersions(t *testing.T, root string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "scripts", "backends.sh"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+_version)=(v[0-9.]+)$`).FindAllStringSubmatch(string(data), -1) {
		out[m[1]] = m[2]
	}
	require.Len(t, out, 3, "scripts/backends.sh pins three versions")
	return out
}

// assertPinned checks that image names a tag other than latest (a digest
// also pins it).
func assertPinned(t *testing.T, where, image string) {
	t.Helper()
	if strings.Contains(image, "@sha256:") {
		return
	}
	name := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(name, ":")
	if !assert.True(t, i > 0, "%s: image %q has no tag", where, image) {
		return
	}
	assert.NotEqual(t, "latest", name[i+1:], "%s: image %q", where, image)
}

// bindTarget returns where svc mounts the host path source.
func bindTarget(t *testing.T, svc types.ServiceConfig, source string) string {
	t.Helper()
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeBind && v.Source == source {
			return v.Target
		}
	}
	t.Fatalf("%s does not mount %s", svc.Name, source)
	return ""
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, v), file)
}

// collectorVersion returns the one version all components of the builder
// manifest are pinned to.
func collectorVersion(t *testing.T, root string) string {
	t.Helper()
	var manifest map[string]any
	readYAML(t, filepath.Join(root, "collector", "builder-config.yaml"), &manifest)
	var versions []string
	for _, kind := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
		list, _ := manifest[kind].([]any)
		for _, c := range list {
			gomod, _ := c.(map[string]any)["gomod"].(string)
			f := strings.Fields(gomod)
			require.Len(t, f, 2, gomod)
			versions = append(versions, f[1])
		}
	}
	slices.Sort(versions)
	versions = slices.Compact(versions)
	require.Len(t, versions, 1, "core and contrib pinned to the same version")
	return versions[0]
}
