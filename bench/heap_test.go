package bench_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
)

// liveHeapEnv names the environment variable that gives the benchmarks a
// live heap of that many MiB, held for the whole run: the heap regime of a
// service rather than of a benchmark binary. Unset or 0, the benchmarks run
// in the regime they make themselves: about 1 MiB live, where the runtime's
// minimum heap goal (4 MiB) makes a GC cycle every ~3 MiB allocated and each
// cycle's fixed cost (the binary's globals, stacks, the idle mark worker on
// the idle P) is spread over few requests, so bytes per request weigh as
// much as instructions. With a service's live heap the cycles are rarer and
// each marks that heap: BENCHMARKS.md, "Heap regime". Use a benchtime long
// enough for several cycles per run (BENCHTIME=1s with 32 MiB).
const liveHeapEnv = "BENCH_LIVE_HEAP_MB"

// TestMain holds the live heap liveHeapEnv asks for and prints the heap
// regime into the output ("gogc:", "live-heap-mb:" lines, which benchstat
// reads as configuration and cmd/targets prints above its table).
func TestMain(m *testing.M) {
	mb := 0
	if v := os.Getenv(liveHeapEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "%s=%q: want a whole number of MiB\n", liveHeapEnv, v)
			os.Exit(2)
		}
		mb = n
	}
	heap := newLiveHeap(mb)
	runtime.GC()
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	fmt.Printf("gogc: %d\nlive-heap-mb: %d\n", gogc, mb)
	code := m.Run()
	runtime.KeepAlive(heap)
	os.Exit(code)
}

// heapNode is one object of the live heap: the shape of a service's
// caches and session tables, small objects that point at each other and
// at strings, so the GC has pointers to follow in every one of them.
type heapNode struct {
	key   string
	next  *heapNode
	peers []*heapNode
	n     int64
}

// heapNodeBytes is what one node costs on the heap: the node (56 B, the
// 64 B size class), its peers slice (2 pointers, 16 B), its key (up to 7
// digits, the 8 B class) and its slot in the slice that holds them (8 B).
const heapNodeBytes = 64 + 16 + 8 + 8

// newLiveHeap builds about mb MiB of linked heapNodes.
func newLiveHeap(mb int) []*heapNode {
	n := mb << 20 / heapNodeBytes
	nodes := make([]*heapNode, n)
	for i := range nodes {
		nd := &heapNode{key: strconv.Itoa(i % 1e7), n: int64(i)}
		if i > 0 {
			nd.next = nodes[i-1]
			nd.peers = []*heapNode{nodes[i/2], nodes[i-1]}
		}
		nodes[i] = nd
	}
	return nodes
}

// TestLiveHeap checks that newLiveHeap holds what it says: mb MiB live
// after a collection, within 20%.
func TestLiveHeap(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	heap := newLiveHeap(16)
	runtime.GC()
	runtime.ReadMemStats(&after)
	got := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	runtime.KeepAlive(heap)
	if got < 16*0.8 || got > 16*1.2 {
		t.Fatalf("newLiveHeap(16) holds %.1f MiB live, want 16 +-20%%", got)
	}
}
