/** The upscale node's library: Real-ESRGAN (ONNX, tiled, batched) or lanczos. */
export {
  UPSCALE_MODELS,
  UpscaleParamsSchema,
  upscaleFrames,
  upscalePlan,
  upscaleRoles,
  type Frames,
  type SessionProvider,
  type UpscaleHooks,
  type UpscaleModel,
  type UpscaleParams,
} from './upscale';
export { RECOMMENDED_SESSION_OPTIONS, createUpscaleSession, packSessions } from './session';
export { planTiles, type Tile } from './tiles';
