// What OCI's bare-metal shapes have, for oci-shape-matches-facts. Source: Oracle's "Compute Shapes"
// page (https://docs.oracle.com/en-us/iaas/Content/Compute/References/computeshapes.htm), which
// defines an OCPU as one physical core and, on x86, two vCPUs (two hardware threads), and lists each
// bare-metal shape's fixed OCPUs and memory in GB. Only shapes whose figures we checked are here;
// a shape not listed gets no verdict. Check a new row against `oci compute shape list` before adding it.

export interface BareMetalShape {
    /** Physical cores (Oracle's OCPUs). */
    ocpus: number;
    /** Hardware threads per OCPU as Linux counts them with SMT on (2 on x86). */
    threadsPerOcpu: number;
    /** Memory, GB. */
    memoryGb: number;
}

export const BARE_METAL_SHAPES: Readonly<Record<string, BareMetalShape>> = {
    // 2 × AMD EPYC 7742 (Rome), 64 cores each.
    "BM.Standard.E3.128": { ocpus: 128, threadsPerOcpu: 2, memoryGb: 2048 },
    // 2 × AMD EPYC 7J13 (Milan), 64 cores each.
    "BM.Standard.E4.128": { ocpus: 128, threadsPerOcpu: 2, memoryGb: 2048 },
};

/** Logical CPUs Linux sees on the shape with SMT on and every core enabled (OCI's defaults). */
export function logicalCpus(shape: BareMetalShape): number {
    return shape.ocpus * shape.threadsPerOcpu;
}
