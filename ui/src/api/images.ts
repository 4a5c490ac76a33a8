import { call, backend } from "./backend";
import type { ImageSummary, PruneResult, PullProgress, Volume } from "./types";

export const imagesList = () => call<ImageSummary[]>("images_list");

/** Resolves when the pull is done; rejects with the registry's message. */
export function imagePull(reference: string, onProgress: (p: PullProgress) => void): Promise<null> {
  const onProgressChannel = backend().channel<PullProgress>(onProgress);
  return call<null>("image_pull", { reference, onProgress: onProgressChannel });
}

export const imageRemove = (id: string, force: boolean) => call<null>("image_remove", { id, force });
export const imagesPrune = () => call<PruneResult>("images_prune");

export const volumesList = () => call<Volume[]>("volumes_list");
export const volumeCreate = (name: string) => call<Volume>("volume_create", { name });
export const volumeRemove = (name: string, force: boolean) => call<null>("volume_remove", { name, force });
