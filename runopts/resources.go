package runopts

import (
	"errors"
	"math/big"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-units"
)

func memory(v string, _ *container.Config, hc *container.HostConfig) error {
	return setSize(v, &hc.Memory)
}

// memorySwap takes -1 as docker run does: unlimited swap.
func memorySwap(v string, _ *container.Config, hc *container.HostConfig) error {
	if v == "-1" {
		hc.MemorySwap = -1
		return nil
	}
	return setSize(v, &hc.MemorySwap)
}

func shmSize(v string, _ *container.Config, hc *container.HostConfig) error {
	return setSize(v, &hc.ShmSize)
}

func setSize(v string, field *int64) error {
	n, err := units.RAMInBytes(v)
	if err != nil {
		return err
	}
	*field = n
	return nil
}

// cpus goes through big.Rat as docker run does, so that 0.1 is exactly
// 100000000 nano CPUs and a value finer than that is refused, not rounded.
func cpus(v string, _ *container.Config, hc *container.HostConfig) error {
	r, ok := new(big.Rat).SetString(v)
	if !ok || r.Sign() <= 0 {
		return errors.New("should be a positive number like 0.5 or 2")
	}
	nano := r.Mul(r, big.NewRat(1e9, 1))
	if !nano.IsInt() || !nano.Num().IsInt64() {
		return errors.New("too precise: at most 9 decimal places")
	}
	hc.NanoCPUs = nano.Num().Int64()
	return nil
}

// ulimit replaces an earlier limit of the same name, as docker run keeps one
// per name.
func ulimit(v string, _ *container.Config, hc *container.HostConfig) error {
	u, err := units.ParseUlimit(v)
	if err != nil {
		return err
	}
	for i, old := range hc.Ulimits {
		if old.Name == u.Name {
			hc.Ulimits[i] = u
			return nil
		}
	}
	hc.Ulimits = append(hc.Ulimits, u)
	return nil
}

func pidsLimit(v string, _ *container.Config, hc *container.HostConfig) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return errors.New("should be a whole number")
	}
	hc.PidsLimit = &n
	return nil
}
