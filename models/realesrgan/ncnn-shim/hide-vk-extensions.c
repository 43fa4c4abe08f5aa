/*
 * LD_PRELOAD shim for verifying against realesrgan-ncnn-vulkan on lavapipe.
 *
 * Hides the device extensions named in HIDE_VK_EXTENSIONS (comma-separated) from
 * vkEnumerateDeviceExtensionProperties, so ncnn decides the device lacks them. Why:
 * with VK_KHR_8bit_storage, realesrgan-ncnn-vulkan's postproc shader does
 * uint(floor(v)) before clamping, which is undefined for negative v; lavapipe turns the
 * network's small undershoots at dark outlines into 255. Without the extension ncnn
 * takes its float output path and clamps on the CPU. Nothing else changes: same
 * binary, same shaders, same weights.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char extensionName[256];
  uint32_t specVersion;
} VkExtensionProperties;

typedef int32_t (*EnumerateFn)(void *, const char *, uint32_t *, VkExtensionProperties *);

static int hidden(const char *name) {
  const char *list = getenv("HIDE_VK_EXTENSIONS");
  if (!list) return 0;
  size_t len = strlen(name);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == len && strncmp(p, name, n) == 0) return 1;
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

int32_t vkEnumerateDeviceExtensionProperties(void *device, const char *layer, uint32_t *count, VkExtensionProperties *props) {
  static EnumerateFn real;
  if (!real) real = (EnumerateFn)dlsym(RTLD_NEXT, "vkEnumerateDeviceExtensionProperties");
  /* A count query may answer more than the filtered list holds; Vulkan allows that. */
  if (!props) return real(device, layer, count, props);
  uint32_t n = *count;
  VkExtensionProperties *all = calloc(n ? n : 1, sizeof *all);
  int32_t result = real(device, layer, &n, all);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!hidden(all[i].extensionName)) props[kept++] = all[i];
  }
  *count = kept;
  free(all);
  return result;
}
