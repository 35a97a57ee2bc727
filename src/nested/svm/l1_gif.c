#include "nested/svm/l1_gif.h"

struct l1_gif_intercepts l1_gif_intercepts(const struct l1_gif_state *s)
{
	bool direct = s->intr_direct &&
		      (!s->svme || s->fresh || !s->end_early || s->interrupt_pending);
	struct l1_gif_intercepts i = { .clgi = false, .stgi = false, .intr = !direct,
				       .direct = direct };
	if (!s->svme) {
		/* the CPU would execute them (VMCB01's EFER always has SVME, APM 15.5.1):
		 * nestbed raises the #UD */
		i.clgi = i.stgi = true;
		return i;
	}
	/* while INTR goes straight to L1, its CLGI must be seen to start intercepting it */
	i.clgi = direct;
	/* something waits for GIF 1 */
	i.stgi = s->held || (s->event_waits && !s->v_gif);
	return i;
}
