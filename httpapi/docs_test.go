package httpapi

import (
	"os"
	"strings"
	"testing"

	"github.com/outlethq/outlet/internal/metrics"
)

func TestEveryRouteIsInTheAPIReference(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(doc), "\n")
	for _, r := range New(Config{Metrics: metrics.New()}).Routes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		documented := false
		for _, l := range lines {
			if strings.Contains(l, path+"`") && strings.Contains(l, method) {
				documented = true
				break
			}
		}
		if !documented {
			t.Errorf("%s is not in docs/api.md", r.Pattern)
		}
	}
}
