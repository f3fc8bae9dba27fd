// kpeval patch 9: cross-attention computed once per input, not once per beam.
//
// Encoder-decoder generation expands the encoder outputs to one copy per beam (and per returned
// sequence when sampling): rows [i*G, (i+1)*G) of the decoder batch all attend to input i's
// encoder states. Upstream (like transformers) then projects every copy through the
// cross-attention key/value layers and keeps G identical copies of the keys/values in the
// cache, which every decoding step reads in full. `generate` records G here for the decoding
// loop; the cross-attention layers that know about it project and cache one copy per input,
// and attend with the G rows of an input as G query positions over that one copy.

use std::cell::Cell;

thread_local! {
    static GROUP: Cell<i64> = const { Cell::new(1) };
}

/// How many consecutive decoder rows share one encoder output in the running generation (1
/// outside generation).
pub fn encoder_group() -> i64 {
    GROUP.with(|g| g.get())
}

/// Sets the group size until the guard is dropped.
pub fn set_encoder_group(group: i64) -> GroupGuard {
    let previous = GROUP.with(|g| g.replace(group.max(1)));
    GroupGuard { previous }
}

pub struct GroupGuard {
    previous: i64,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        GROUP.with(|g| g.set(self.previous));
    }
}
