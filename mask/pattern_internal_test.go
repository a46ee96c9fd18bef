package mask

import "testing"

// TestCloudKeyFirst: the first bytes pattern looks for are those of the
// cloud key prefixes, so that no prefix is skipped.
func TestCloudKeyFirst(t *testing.T) {
	var want [256]bool
	for _, k := range cloudKeys {
		want[k.prefix[0]] = true
	}
	if want != cloudKeyFirst {
		t.Fatalf("cloudKeyFirst does not list the first bytes of cloudKeys")
	}
}
