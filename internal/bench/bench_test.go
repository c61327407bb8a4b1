package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/bench"
	"github.com/outlethq/outlet/outlettest"
)

func TestARunCountsEveryDeliveryOnce(t *testing.T) {
	t.Parallel()
	srv := outlettest.Start(t)
	res, err := bench.Run(context.Background(), bench.Options{
		URL: srv.URL, Key: outlettest.AdminKey,
		Events: 200, Concurrency: 8, Endpoints: 3, Size: 256, Timeout: time.Minute, Baseline: true, HookCalls: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 200 || res.PublishErrors != 0 || res.Delivered != 600 || res.Duplicates != 0 || res.TimedOut {
		t.Errorf("result %+v; want 200 accepted and 600 delivered, once each", res)
	}
	if res.PublishPerSec <= 0 || res.DeliverPerSec <= 0 || res.BaselinePerSec <= 0 || res.LatencyP99Ms < res.LatencyP50Ms {
		t.Errorf("rates or latencies don't add up: %+v", res)
	}
	if res.HookCalls != 20 || res.HookP50Ms <= 0 || res.HookP99Ms < res.HookP50Ms || res.BareP50Ms <= 0 || res.HookFirstCallMs <= 0 {
		t.Errorf("hook timings don't add up: %+v", res)
	}
}

func TestARunInBatchesCountsEveryEventOfThem(t *testing.T) {
	t.Parallel()
	srv := outlettest.Start(t)
	res, err := bench.Run(context.Background(), bench.Options{
		URL: srv.URL, Key: outlettest.AdminKey,
		Events: 250, Batch: 100, Concurrency: 2, Endpoints: 2, Size: 256, Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Batch != 100 || res.Accepted != 250 || res.PublishErrors != 0 || res.Delivered != 500 || res.Duplicates != 0 || res.TimedOut {
		t.Errorf("result %+v; want 250 accepted in batches of 100 and 500 delivered, once each", res)
	}
}

func TestARunStopsAtItsTimeout(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := bench.Run(context.Background(), bench.Options{
		URL: "http://127.0.0.1:1", Key: "x", Events: 10, Concurrency: 1, Endpoints: 1, Timeout: 500 * time.Millisecond,
	})
	if err == nil {
		t.Error("a run against nothing succeeded")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the run took %s; its timeout is 500ms", time.Since(start))
	}
}
