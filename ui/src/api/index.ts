export * from "./types";
export { errorMessage, setBackend, type Backend, type StreamHandle } from "./backend";
export * from "./engine";
export * from "./containers";
export * from "./terminal";
export * from "./images";
export * from "./system";
