package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Result is how one host's work ended.
type Result[T any] struct {
	Host  string
	Value T
	Err   error
}

// Each runs fn for every host, at most limit at once (0: all at once), and
// waits for all of them: one host's failure does not stop the others, so
// the user learns the state of every host.
func Each[T any](ctx context.Context, hosts []string, limit int, fn func(ctx context.Context, host string) (T, error)) []Result[T] {
	if limit <= 0 || limit > len(hosts) {
		limit = len(hosts)
	}
	results := make([]Result[T], len(hosts))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := fn(ctx, h)
			results[i] = Result[T]{Host: h, Value: v, Err: err}
		}()
	}
	wg.Wait()
	return results
}

// Failed joins the failures of Each into one error naming each host, or
// returns nil when every host succeeded.
func Failed[T any](results []Result[T]) error {
	var errs []string
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", r.Host, r.Err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errors.New(errs[0])
	}
	return fmt.Errorf("%d of %d hosts failed:\n  %s", len(errs), len(results), strings.Join(errs, "\n  "))
}
