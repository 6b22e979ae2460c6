// The part of pngjs 7 Quiver uses (the package ships no types of its own).
declare module "pngjs" {
  export const PNG: {
    sync: {
      read(
        buffer: Uint8Array,
        options?: { skipRescale?: boolean },
      ): { width: number; height: number; data: Uint8Array };
      write(png: { width: number; height: number; data: Uint8Array }, options?: { colorType?: number }): Uint8Array;
    };
  };
}
