package vm

// lock takes the kernel lock, which guards what processes share: the process table, the ready
// queues, pipes, descriptors and the host's streams. With one processor there is nothing to
// guard against, and it costs nothing.
func (c *cpu) lock() {
	if c.multi {
		c.mu.Lock()
	}
}

func (c *cpu) unlock() {
	if c.multi {
		c.mu.Unlock()
	}
}
