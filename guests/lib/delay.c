#include "lib/delay.h"

#include "lib/cpu.h"

/* 8254 PIT: input clock 1.193182 MHz; channel 2 data port 42h, mode/command 43h. Port
 * 61h (the PC's system control port B): bit 0 gates channel 2, bit 1 enables the
 * speaker, bit 5 reads channel 2's output. */
#define PIT_HZ              1193182ull
#define PIT_CHANNEL2        0x42
#define PIT_COMMAND         0x43
#define PIT_CH2_LOHI_MODE0  0xb0 /* channel 2, lobyte/hibyte, mode 0 (interrupt on count) */
#define PORT_B              0x61
#define PORT_B_GATE2        0x01
#define PORT_B_SPEAKER      0x02
#define PORT_B_OUT2         0x20
#define PIT_MAX_COUNT       0xffffu

/* One mode-0 count: OUT2 goes low when the count is written and high at zero. */
static void pit_wait(uint32_t count)
{
	uint8_t b = inb(PORT_B);
	outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) & ~PORT_B_GATE2));
	outb(PIT_COMMAND, PIT_CH2_LOHI_MODE0);
	outb(PIT_CHANNEL2, (uint8_t)count);
	outb(PIT_CHANNEL2, (uint8_t)(count >> 8));
	outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	while (!(inb(PORT_B) & PORT_B_OUT2))
		cpu_relax();
}

void delay_us(uint64_t us)
{
	uint64_t ticks = (us * PIT_HZ + 999999) / 1000000;
	while (ticks) {
		uint32_t count = ticks > PIT_MAX_COUNT ? PIT_MAX_COUNT : (uint32_t)ticks;
		if (count < 2)
			count = 2;
		pit_wait(count);
		ticks = ticks > count ? ticks - count : 0;
	}
}

bool delay_poll(bool (*done)(void *), void *arg, uint64_t timeout_us, uint64_t step_us)
{
	for (uint64_t waited = 0;; waited += step_us) {
		if (done(arg))
			return true;
		if (waited >= timeout_us)
			return false;
		delay_us(step_us);
	}
}
