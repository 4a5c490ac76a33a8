/* The benchmark floor's /init: power the VM off at once. What a boot costs without
 * Berth: the kernel, the initramfs unpack and one exec. */
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
    sync();
    reboot(RB_POWER_OFF);
    return 1; /* only if reboot failed; the kernel then panics (panic=-1 reboots) */
}
