/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layout checks of the NVMe, NVMe-oF and NVMe/TCP wire structures against the byte
 * offsets of the specifications, plus the behavior of the small helpers. A wrong
 * field order, size or padding in a header fails here with the field's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"

#define CHECK_SIZE(type, size)	       assert_int_equal(sizeof(type), (size))
#define CHECK_OFFSET(type, field, off) assert_int_equal(offsetof(type, field), (off))

static void
test_sqe_cqe_layout(void **state)
{
	(void)state;
	CHECK_SIZE(struct nvt_nvme_cmd, 64);
	CHECK_OFFSET(struct nvt_nvme_cmd, opc, 0);
	CHECK_OFFSET(struct nvt_nvme_cmd, flags, 1);
	CHECK_OFFSET(struct nvt_nvme_cmd, cid, 2);
	CHECK_OFFSET(struct nvt_nvme_cmd, nsid, 4);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw2, 8);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw3, 12);
	CHECK_OFFSET(struct nvt_nvme_cmd, mptr, 16);
	CHECK_OFFSET(struct nvt_nvme_cmd, dptr, 24);
	CHECK_OFFSET(struct nvt_nvme_cmd, dptr.prp.prp1, 24);
	CHECK_OFFSET(struct nvt_nvme_cmd, dptr.prp.prp2, 32);
	CHECK_OFFSET(struct nvt_nvme_cmd, dptr.sgl1.unkeyed.addr, 24);
	CHECK_OFFSET(struct nvt_nvme_cmd, dptr.sgl1.unkeyed.length, 32);
	CHECK_OFFSET(struct nvt_nvme_cmd, dptr.sgl1.unkeyed.id, 39);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw10, 40);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw11, 44);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw12, 48);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw13, 52);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw14, 56);
	CHECK_OFFSET(struct nvt_nvme_cmd, cdw15, 60);

	CHECK_SIZE(union nvt_nvme_sgl_desc, 16);
	CHECK_OFFSET(struct nvt_nvme_sgl_unkeyed, addr, 0);
	CHECK_OFFSET(struct nvt_nvme_sgl_unkeyed, length, 8);
	CHECK_OFFSET(struct nvt_nvme_sgl_unkeyed, id, 15);
	CHECK_OFFSET(struct nvt_nvme_sgl_keyed, addr, 0);
	CHECK_OFFSET(struct nvt_nvme_sgl_keyed, length, 8);
	CHECK_OFFSET(struct nvt_nvme_sgl_keyed, key, 11);
	CHECK_OFFSET(struct nvt_nvme_sgl_keyed, id, 15);

	CHECK_SIZE(struct nvt_nvme_cpl, 16);
	CHECK_OFFSET(struct nvt_nvme_cpl, cdw0, 0);
	CHECK_OFFSET(struct nvt_nvme_cpl, cdw1, 4);
	CHECK_OFFSET(struct nvt_nvme_cpl, sqhd, 8);
	CHECK_OFFSET(struct nvt_nvme_cpl, sqid, 10);
	CHECK_OFFSET(struct nvt_nvme_cpl, cid, 12);
	CHECK_OFFSET(struct nvt_nvme_cpl, status, 14);

	CHECK_SIZE(union nvt_nvme_sqe, 64);
	CHECK_SIZE(struct nvt_nvme_dsm_range, 16);
	CHECK_OFFSET(struct nvt_nvme_dsm_range, cattr, 0);
	CHECK_OFFSET(struct nvt_nvme_dsm_range, nlb, 4);
	CHECK_OFFSET(struct nvt_nvme_dsm_range, slba, 8);
}

static void
test_id_ctrl_layout(void **state)
{
	(void)state;
	CHECK_SIZE(struct nvt_nvme_id_ctrl, 4096);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, vid, 0);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ssvid, 2);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, sn, 4);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, mn, 24);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, fr, 64);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, rab, 72);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ieee, 73);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, cmic, 76);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, mdts, 77);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, cntlid, 78);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ver, 80);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, rtd3r, 84);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, rtd3e, 88);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, oaes, 92);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ctratt, 96);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, rrls, 100);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, cntrltype, 111);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, fguid, 112);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, crdt1, 128);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, crdt2, 130);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, crdt3, 132);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, nvmsr, 253);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, vwci, 254);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, mec, 255);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, oacs, 256);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, acl, 258);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, aerl, 259);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, frmw, 260);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, lpa, 261);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, elpe, 262);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, npss, 263);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, avscc, 264);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, apsta, 265);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, wctemp, 266);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, cctemp, 268);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, mtfa, 270);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, hmpre, 272);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, hmmin, 276);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, tnvmcap, 280);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, unvmcap, 296);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, rpmbs, 312);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, edstt, 316);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, dsto, 318);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, fwug, 319);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, kas, 320);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, hctma, 322);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, mntmt, 324);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, mxtmt, 326);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, sanicap, 328);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, hmminds, 332);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, hmmaxd, 336);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, nvmsetidmax, 338);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, endgidmax, 340);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, anatt, 342);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, anacap, 343);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, anagrpmax, 344);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, nanagrpid, 348);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, pels, 352);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, domainid, 356);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, megcap, 368);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, sqes, 512);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, cqes, 513);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, maxcmd, 514);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, nn, 516);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, oncs, 520);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, fuses, 522);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, fna, 524);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, vwc, 525);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, awun, 526);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, awupf, 528);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, icsvscc, 530);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, nwpc, 531);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, acwu, 532);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ocfs, 534);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, sgls, 536);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, mnan, 540);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, maxdna, 544);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, maxcna, 560);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, subnqn, 768);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ioccsz, 1792);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, iorcsz, 1796);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, icdoff, 1800);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ctrattr, 1802);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, msdbd, 1803);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, ofcs, 1804);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, dctype, 1806);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, psd, 2048);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, psd[1], 2080);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, psd[31], 3040);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl, vs, 3072);

	CHECK_SIZE(struct nvt_nvme_power_state, 32);
	CHECK_OFFSET(struct nvt_nvme_power_state, mp, 0);
	CHECK_OFFSET(struct nvt_nvme_power_state, flags, 3);
	CHECK_OFFSET(struct nvt_nvme_power_state, enlat, 4);
	CHECK_OFFSET(struct nvt_nvme_power_state, exlat, 8);
	CHECK_OFFSET(struct nvt_nvme_power_state, rrt, 12);
	CHECK_OFFSET(struct nvt_nvme_power_state, rwl, 15);
	CHECK_OFFSET(struct nvt_nvme_power_state, idlp, 16);
	CHECK_OFFSET(struct nvt_nvme_power_state, ips, 18);
	CHECK_OFFSET(struct nvt_nvme_power_state, actp, 20);
	CHECK_OFFSET(struct nvt_nvme_power_state, apw_aps, 22);
}

static void
test_id_ns_layout(void **state)
{
	(void)state;
	CHECK_SIZE(struct nvt_nvme_id_ns, 4096);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nsze, 0);
	CHECK_OFFSET(struct nvt_nvme_id_ns, ncap, 8);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nuse, 16);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nsfeat, 24);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nlbaf, 25);
	CHECK_OFFSET(struct nvt_nvme_id_ns, flbas, 26);
	CHECK_OFFSET(struct nvt_nvme_id_ns, mc, 27);
	CHECK_OFFSET(struct nvt_nvme_id_ns, dpc, 28);
	CHECK_OFFSET(struct nvt_nvme_id_ns, dps, 29);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nmic, 30);
	CHECK_OFFSET(struct nvt_nvme_id_ns, rescap, 31);
	CHECK_OFFSET(struct nvt_nvme_id_ns, fpi, 32);
	CHECK_OFFSET(struct nvt_nvme_id_ns, dlfeat, 33);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nawun, 34);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nawupf, 36);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nacwu, 38);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nabsn, 40);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nabo, 42);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nabspf, 44);
	CHECK_OFFSET(struct nvt_nvme_id_ns, noiob, 46);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nvmcap, 48);
	CHECK_OFFSET(struct nvt_nvme_id_ns, npwg, 64);
	CHECK_OFFSET(struct nvt_nvme_id_ns, npwa, 66);
	CHECK_OFFSET(struct nvt_nvme_id_ns, npdg, 68);
	CHECK_OFFSET(struct nvt_nvme_id_ns, npda, 70);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nows, 72);
	CHECK_OFFSET(struct nvt_nvme_id_ns, mssrl, 74);
	CHECK_OFFSET(struct nvt_nvme_id_ns, mcl, 76);
	CHECK_OFFSET(struct nvt_nvme_id_ns, msrc, 80);
	CHECK_OFFSET(struct nvt_nvme_id_ns, anagrpid, 92);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nsattr, 99);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nvmsetid, 100);
	CHECK_OFFSET(struct nvt_nvme_id_ns, endgid, 102);
	CHECK_OFFSET(struct nvt_nvme_id_ns, nguid, 104);
	CHECK_OFFSET(struct nvt_nvme_id_ns, eui64, 120);
	CHECK_OFFSET(struct nvt_nvme_id_ns, lbaf, 128);
	CHECK_OFFSET(struct nvt_nvme_id_ns, lbaf[1], 132);
	CHECK_OFFSET(struct nvt_nvme_id_ns, lbaf[15], 188);
	CHECK_OFFSET(struct nvt_nvme_id_ns, lbaf[63], 380);
	CHECK_OFFSET(struct nvt_nvme_id_ns, vs, 384);

	CHECK_SIZE(struct nvt_nvme_lbaf, 4);
	CHECK_OFFSET(struct nvt_nvme_lbaf, ms, 0);
	CHECK_OFFSET(struct nvt_nvme_lbaf, lbads, 2);
	CHECK_OFFSET(struct nvt_nvme_lbaf, rp, 3);

	CHECK_SIZE(struct nvt_nvme_ns_id_desc, 4);
	CHECK_OFFSET(struct nvt_nvme_ns_id_desc, nidt, 0);
	CHECK_OFFSET(struct nvt_nvme_ns_id_desc, nidl, 1);
	CHECK_SIZE(struct nvt_nvme_ns_list, 4096);

	CHECK_SIZE(struct nvt_nvme_id_ctrl_nvm, 4096);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl_nvm, vsl, 0);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl_nvm, wzsl, 1);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl_nvm, wusl, 2);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl_nvm, dmrl, 3);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl_nvm, dmrsl, 4);
	CHECK_OFFSET(struct nvt_nvme_id_ctrl_nvm, dmsl, 8);
}

static void
test_log_page_layout(void **state)
{
	(void)state;
	CHECK_SIZE(struct nvt_nvme_error_log_entry, 64);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, error_count, 0);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, sqid, 8);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, cid, 10);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, status, 12);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, pel, 14);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, lba, 16);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, nsid, 24);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, vs, 28);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, trtype, 29);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, csi, 32);
	CHECK_OFFSET(struct nvt_nvme_error_log_entry, trtype_specific, 40);

	CHECK_SIZE(struct nvt_nvme_smart_log, 512);
	CHECK_OFFSET(struct nvt_nvme_smart_log, critical_warning, 0);
	CHECK_OFFSET(struct nvt_nvme_smart_log, temperature, 1);
	CHECK_OFFSET(struct nvt_nvme_smart_log, avail_spare, 3);
	CHECK_OFFSET(struct nvt_nvme_smart_log, avail_spare_threshold, 4);
	CHECK_OFFSET(struct nvt_nvme_smart_log, percent_used, 5);
	CHECK_OFFSET(struct nvt_nvme_smart_log, eg_critical_warning_summary, 6);
	CHECK_OFFSET(struct nvt_nvme_smart_log, data_units_read, 32);
	CHECK_OFFSET(struct nvt_nvme_smart_log, data_units_written, 48);
	CHECK_OFFSET(struct nvt_nvme_smart_log, host_read_commands, 64);
	CHECK_OFFSET(struct nvt_nvme_smart_log, host_write_commands, 80);
	CHECK_OFFSET(struct nvt_nvme_smart_log, controller_busy_time, 96);
	CHECK_OFFSET(struct nvt_nvme_smart_log, power_cycles, 112);
	CHECK_OFFSET(struct nvt_nvme_smart_log, power_on_hours, 128);
	CHECK_OFFSET(struct nvt_nvme_smart_log, unsafe_shutdowns, 144);
	CHECK_OFFSET(struct nvt_nvme_smart_log, media_errors, 160);
	CHECK_OFFSET(struct nvt_nvme_smart_log, num_error_info_log_entries, 176);
	CHECK_OFFSET(struct nvt_nvme_smart_log, warning_temp_time, 192);
	CHECK_OFFSET(struct nvt_nvme_smart_log, critical_temp_time, 196);
	CHECK_OFFSET(struct nvt_nvme_smart_log, temp_sensor, 200);
	CHECK_OFFSET(struct nvt_nvme_smart_log, thm_temp1_trans_count, 216);
	CHECK_OFFSET(struct nvt_nvme_smart_log, thm_temp2_total_time, 228);

	CHECK_SIZE(struct nvt_nvme_fw_slot_log, 512);
	CHECK_OFFSET(struct nvt_nvme_fw_slot_log, afi, 0);
	CHECK_OFFSET(struct nvt_nvme_fw_slot_log, frs, 8);
	CHECK_OFFSET(struct nvt_nvme_fw_slot_log, frs[6], 56);

	CHECK_SIZE(struct nvt_nvme_changed_ns_list_log, 4096);

	CHECK_SIZE(struct nvt_nvme_cmd_effects_log, 4096);
	CHECK_OFFSET(struct nvt_nvme_cmd_effects_log, acs, 0);
	CHECK_OFFSET(struct nvt_nvme_cmd_effects_log, iocs, 1024);

	CHECK_SIZE(struct nvt_nvme_ana_log_hdr, 16);
	CHECK_OFFSET(struct nvt_nvme_ana_log_hdr, chgcnt, 0);
	CHECK_OFFSET(struct nvt_nvme_ana_log_hdr, ngrps, 8);
	CHECK_SIZE(struct nvt_nvme_ana_group_desc, 32);
	CHECK_OFFSET(struct nvt_nvme_ana_group_desc, anagrpid, 0);
	CHECK_OFFSET(struct nvt_nvme_ana_group_desc, nnsids, 4);
	CHECK_OFFSET(struct nvt_nvme_ana_group_desc, chgcnt, 8);
	CHECK_OFFSET(struct nvt_nvme_ana_group_desc, state, 16);
}

static void
test_fabrics_layout(void **state)
{
	(void)state;
	CHECK_SIZE(struct nvt_nvmf_cmd, 64);
	CHECK_OFFSET(struct nvt_nvmf_cmd, opc, 0);
	CHECK_OFFSET(struct nvt_nvmf_cmd, cid, 2);
	CHECK_OFFSET(struct nvt_nvmf_cmd, fctype, 4);
	CHECK_OFFSET(struct nvt_nvmf_cmd, sgl1, 24);
	CHECK_OFFSET(struct nvt_nvmf_cmd, fabrics_specific, 40);

	CHECK_SIZE(struct nvt_nvmf_connect_cmd, 64);
	CHECK_OFFSET(struct nvt_nvmf_connect_cmd, fctype, 4);
	CHECK_OFFSET(struct nvt_nvmf_connect_cmd, sgl1, 24);
	CHECK_OFFSET(struct nvt_nvmf_connect_cmd, recfmt, 40);
	CHECK_OFFSET(struct nvt_nvmf_connect_cmd, qid, 42);
	CHECK_OFFSET(struct nvt_nvmf_connect_cmd, sqsize, 44);
	CHECK_OFFSET(struct nvt_nvmf_connect_cmd, cattr, 46);
	CHECK_OFFSET(struct nvt_nvmf_connect_cmd, kato, 48);

	CHECK_SIZE(struct nvt_nvmf_connect_data, 1024);
	CHECK_OFFSET(struct nvt_nvmf_connect_data, hostid, 0);
	CHECK_OFFSET(struct nvt_nvmf_connect_data, cntlid, 16);
	CHECK_OFFSET(struct nvt_nvmf_connect_data, subnqn, 256);
	CHECK_OFFSET(struct nvt_nvmf_connect_data, hostnqn, 512);
	CHECK_OFFSET(struct nvt_nvmf_connect_data, rsvd768, 768);

	CHECK_SIZE(struct nvt_nvmf_prop_set_cmd, 64);
	CHECK_OFFSET(struct nvt_nvmf_prop_set_cmd, attrib, 40);
	CHECK_OFFSET(struct nvt_nvmf_prop_set_cmd, ofst, 44);
	CHECK_OFFSET(struct nvt_nvmf_prop_set_cmd, value, 48);
	CHECK_SIZE(struct nvt_nvmf_prop_get_cmd, 64);
	CHECK_OFFSET(struct nvt_nvmf_prop_get_cmd, attrib, 40);
	CHECK_OFFSET(struct nvt_nvmf_prop_get_cmd, ofst, 44);

	CHECK_SIZE(struct nvt_nvmf_auth_cmd, 64);
	CHECK_OFFSET(struct nvt_nvmf_auth_cmd, sgl1, 24);
	CHECK_OFFSET(struct nvt_nvmf_auth_cmd, spsp0, 41);
	CHECK_OFFSET(struct nvt_nvmf_auth_cmd, spsp1, 42);
	CHECK_OFFSET(struct nvt_nvmf_auth_cmd, secp, 43);
	CHECK_OFFSET(struct nvt_nvmf_auth_cmd, tl_al, 44);

	CHECK_SIZE(struct nvt_nvmf_disconnect_cmd, 64);
	CHECK_OFFSET(struct nvt_nvmf_disconnect_cmd, recfmt, 40);

	/* Views of the SQE share the common bytes */
	CHECK_OFFSET(union nvt_nvme_sqe, cmd.cid, 2);
	CHECK_OFFSET(union nvt_nvme_sqe, fabrics.fctype, 4);
	CHECK_OFFSET(union nvt_nvme_sqe, connect.qid, 42);
}

static void
test_discovery_layout(void **state)
{
	(void)state;
	CHECK_SIZE(struct nvt_nvmf_disc_log_hdr, 1024);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_hdr, genctr, 0);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_hdr, numrec, 8);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_hdr, recfmt, 16);

	CHECK_SIZE(struct nvt_nvmf_disc_log_entry, 1024);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, trtype, 0);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, adrfam, 1);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, subtype, 2);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, treq, 3);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, portid, 4);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, cntlid, 6);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, asqsz, 8);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, eflags, 10);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, trsvcid, 32);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, subnqn, 256);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, traddr, 512);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, tsas, 768);
	CHECK_OFFSET(struct nvt_nvmf_disc_log_entry, tsas.tcp.sectype, 768);
	assert_int_equal(sizeof(((struct nvt_nvmf_disc_log_entry *)0)->trsvcid), 32);
	assert_int_equal(sizeof(((struct nvt_nvmf_disc_log_entry *)0)->traddr), 256);
	assert_int_equal(sizeof(((struct nvt_nvmf_disc_log_entry *)0)->subnqn), 256);
}

static void
test_tcp_layout(void **state)
{
	(void)state;
	CHECK_SIZE(struct nvt_nvme_tcp_common_hdr, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_common_hdr, type, 0);
	CHECK_OFFSET(struct nvt_nvme_tcp_common_hdr, flags, 1);
	CHECK_OFFSET(struct nvt_nvme_tcp_common_hdr, hlen, 2);
	CHECK_OFFSET(struct nvt_nvme_tcp_common_hdr, pdo, 3);
	CHECK_OFFSET(struct nvt_nvme_tcp_common_hdr, plen, 4);

	CHECK_SIZE(struct nvt_nvme_tcp_ic_req, 128);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_req, pfv, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_req, hpda, 10);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_req, dgst, 11);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_req, maxr2t, 12);
	CHECK_SIZE(struct nvt_nvme_tcp_ic_resp, 128);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_resp, pfv, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_resp, cpda, 10);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_resp, dgst, 11);
	CHECK_OFFSET(struct nvt_nvme_tcp_ic_resp, maxh2cdata, 12);

	CHECK_SIZE(struct nvt_nvme_tcp_term_req, 24);
	CHECK_OFFSET(struct nvt_nvme_tcp_term_req, fes, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_term_req, fei, 10);

	CHECK_SIZE(struct nvt_nvme_tcp_capsule_cmd, 72);
	CHECK_OFFSET(struct nvt_nvme_tcp_capsule_cmd, sqe, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_capsule_cmd, sqe.cmd.cid, 10);
	CHECK_SIZE(struct nvt_nvme_tcp_capsule_resp, 24);
	CHECK_OFFSET(struct nvt_nvme_tcp_capsule_resp, cqe, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_capsule_resp, cqe.cid, 20);

	CHECK_SIZE(struct nvt_nvme_tcp_h2c_data, 24);
	CHECK_OFFSET(struct nvt_nvme_tcp_h2c_data, cccid, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_h2c_data, ttag, 10);
	CHECK_OFFSET(struct nvt_nvme_tcp_h2c_data, datao, 12);
	CHECK_OFFSET(struct nvt_nvme_tcp_h2c_data, datal, 16);
	CHECK_SIZE(struct nvt_nvme_tcp_c2h_data, 24);
	CHECK_OFFSET(struct nvt_nvme_tcp_c2h_data, cccid, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_c2h_data, datao, 12);
	CHECK_OFFSET(struct nvt_nvme_tcp_c2h_data, datal, 16);
	CHECK_SIZE(struct nvt_nvme_tcp_r2t, 24);
	CHECK_OFFSET(struct nvt_nvme_tcp_r2t, cccid, 8);
	CHECK_OFFSET(struct nvt_nvme_tcp_r2t, ttag, 10);
	CHECK_OFFSET(struct nvt_nvme_tcp_r2t, r2to, 12);
	CHECK_OFFSET(struct nvt_nvme_tcp_r2t, r2tl, 16);

	CHECK_SIZE(union nvt_nvme_tcp_pdu_hdr, 128);
}

/* Values the specifications fix; a typo in an enum fails here. */
static void
test_spec_values(void **state)
{
	(void)state;
	assert_int_equal(NVT_NVME_TCP_PDU_IC_REQ, 0x00);
	assert_int_equal(NVT_NVME_TCP_PDU_IC_RESP, 0x01);
	assert_int_equal(NVT_NVME_TCP_PDU_H2C_TERM_REQ, 0x02);
	assert_int_equal(NVT_NVME_TCP_PDU_C2H_TERM_REQ, 0x03);
	assert_int_equal(NVT_NVME_TCP_PDU_CAPSULE_CMD, 0x04);
	assert_int_equal(NVT_NVME_TCP_PDU_CAPSULE_RESP, 0x05);
	assert_int_equal(NVT_NVME_TCP_PDU_H2C_DATA, 0x06);
	assert_int_equal(NVT_NVME_TCP_PDU_C2H_DATA, 0x07);
	assert_int_equal(NVT_NVME_TCP_PDU_R2T, 0x09);
	assert_int_equal(NVT_NVME_TCP_F_HDGSTF, 0x01);
	assert_int_equal(NVT_NVME_TCP_F_DDGSTF, 0x02);
	assert_int_equal(NVT_NVME_TCP_F_LAST_PDU, 0x04);
	assert_int_equal(NVT_NVME_TCP_F_SUCCESS, 0x08);
	assert_int_equal(NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, 0x01);
	assert_int_equal(NVT_NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0x02);
	assert_int_equal(NVT_NVME_TCP_FES_HEADER_DIGEST_ERROR, 0x03);
	assert_int_equal(NVT_NVME_TCP_FES_DATA_OUT_OF_RANGE, 0x04);
	assert_int_equal(NVT_NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0x05);
	assert_int_equal(NVT_NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0x05);
	assert_int_equal(NVT_NVME_TCP_FES_UNSUPPORTED_PARAMETER, 0x06);

	assert_int_equal(NVT_NVME_PROP_CAP, 0x00);
	assert_int_equal(NVT_NVME_PROP_VS, 0x08);
	assert_int_equal(NVT_NVME_PROP_CC, 0x14);
	assert_int_equal(NVT_NVME_PROP_CSTS, 0x1c);
	assert_int_equal(NVT_NVME_PROP_NSSR, 0x20);

	assert_int_equal(NVT_NVME_OPC_GET_LOG_PAGE, 0x02);
	assert_int_equal(NVT_NVME_OPC_IDENTIFY, 0x06);
	assert_int_equal(NVT_NVME_OPC_ABORT, 0x08);
	assert_int_equal(NVT_NVME_OPC_SET_FEATURES, 0x09);
	assert_int_equal(NVT_NVME_OPC_GET_FEATURES, 0x0a);
	assert_int_equal(NVT_NVME_OPC_ASYNC_EVENT_REQUEST, 0x0c);
	assert_int_equal(NVT_NVME_OPC_KEEP_ALIVE, 0x18);
	assert_int_equal(NVT_NVME_OPC_FABRICS, 0x7f);
	assert_int_equal(NVT_NVMF_FCTYPE_PROPERTY_SET, 0x00);
	assert_int_equal(NVT_NVMF_FCTYPE_CONNECT, 0x01);
	assert_int_equal(NVT_NVMF_FCTYPE_PROPERTY_GET, 0x04);
	assert_int_equal(NVT_NVMF_FCTYPE_AUTH_SEND, 0x05);
	assert_int_equal(NVT_NVMF_FCTYPE_AUTH_RECV, 0x06);
	assert_int_equal(NVT_NVMF_FCTYPE_DISCONNECT, 0x08);
	assert_int_equal(NVT_NVME_OPC_FLUSH, 0x00);
	assert_int_equal(NVT_NVME_OPC_WRITE, 0x01);
	assert_int_equal(NVT_NVME_OPC_READ, 0x02);
	assert_int_equal(NVT_NVME_OPC_WRITE_UNCORRECTABLE, 0x04);
	assert_int_equal(NVT_NVME_OPC_COMPARE, 0x05);
	assert_int_equal(NVT_NVME_OPC_WRITE_ZEROES, 0x08);
	assert_int_equal(NVT_NVME_OPC_DATASET_MANAGEMENT, 0x09);

	assert_int_equal(NVT_NVME_SCT_GENERIC, 0);
	assert_int_equal(NVT_NVME_SCT_COMMAND_SPECIFIC, 1);
	assert_int_equal(NVT_NVME_SCT_MEDIA_ERROR, 2);
	assert_int_equal(NVT_NVME_SCT_PATH, 3);
	assert_int_equal(NVT_NVME_SCT_VENDOR_SPECIFIC, 7);
	assert_int_equal(NVT_NVME_SC_INVALID_FIELD, 0x02);
	assert_int_equal(NVT_NVME_SC_INVALID_NAMESPACE, 0x0b);
	assert_int_equal(NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, 0x0c);
	assert_int_equal(NVT_NVME_SC_LBA_OUT_OF_RANGE, 0x80);
	assert_int_equal(NVT_NVME_SC_INVALID_LOG_PAGE, 0x09);
	assert_int_equal(NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, 0x82);
	assert_int_equal(NVT_NVMF_SC_CONNECT_INVALID_HOST, 0x84);

	assert_int_equal(NVT_NVME_CNS_NS, 0x00);
	assert_int_equal(NVT_NVME_CNS_CTRL, 0x01);
	assert_int_equal(NVT_NVME_CNS_ACTIVE_NS_LIST, 0x02);
	assert_int_equal(NVT_NVME_CNS_NS_ID_DESC_LIST, 0x03);
	assert_int_equal(NVT_NVME_CNS_IOCS_NS, 0x05);
	assert_int_equal(NVT_NVME_CNS_IOCS_CTRL, 0x06);
	assert_int_equal(NVT_NVME_NIDT_EUI64, 1);
	assert_int_equal(NVT_NVME_NIDT_NGUID, 2);
	assert_int_equal(NVT_NVME_NIDT_UUID, 3);
	assert_int_equal(NVT_NVME_NIDT_CSI, 4);

	assert_int_equal(NVT_NVME_FEAT_ARBITRATION, 0x01);
	assert_int_equal(NVT_NVME_FEAT_POWER_MANAGEMENT, 0x02);
	assert_int_equal(NVT_NVME_FEAT_TEMPERATURE_THRESHOLD, 0x04);
	assert_int_equal(NVT_NVME_FEAT_ERROR_RECOVERY, 0x05);
	assert_int_equal(NVT_NVME_FEAT_VOLATILE_WRITE_CACHE, 0x06);
	assert_int_equal(NVT_NVME_FEAT_NUMBER_OF_QUEUES, 0x07);
	assert_int_equal(NVT_NVME_FEAT_INTERRUPT_COALESCING, 0x08);
	assert_int_equal(NVT_NVME_FEAT_ASYNC_EVENT_CONFIGURATION, 0x0b);
	assert_int_equal(NVT_NVME_FEAT_KEEP_ALIVE_TIMER, 0x0f);
	assert_int_equal(NVT_NVME_FEAT_HOST_IDENTIFIER, 0x81);

	assert_int_equal(NVT_NVME_LOG_ERROR, 0x01);
	assert_int_equal(NVT_NVME_LOG_SMART, 0x02);
	assert_int_equal(NVT_NVME_LOG_FIRMWARE_SLOT, 0x03);
	assert_int_equal(NVT_NVME_LOG_CHANGED_NS_LIST, 0x04);
	assert_int_equal(NVT_NVME_LOG_COMMAND_EFFECTS, 0x05);
	assert_int_equal(NVT_NVME_LOG_ANA, 0x0c);
	assert_int_equal(NVT_NVME_LOG_DISCOVERY, 0x70);

	assert_int_equal(NVT_NVMF_TRTYPE_TCP, 3);
	assert_int_equal(NVT_NVMF_ADRFAM_IPV4, 1);
	assert_int_equal(NVT_NVMF_ADRFAM_IPV6, 2);
	assert_int_equal(NVT_NVMF_SUBTYPE_DISCOVERY, 1);
	assert_int_equal(NVT_NVMF_SUBTYPE_NVME, 2);
	assert_int_equal(NVT_NVMF_SUBTYPE_DISCOVERY_CURRENT, 3);
	assert_int_equal(NVT_NVMF_TREQ_SECURE_CHANNEL_NOT_REQUIRED, 2);
	assert_int_equal(NVT_NVMF_TREQ_DISABLE_SQFLOW, 4);

	assert_int_equal(NVT_NVME_SGL_TYPE_DATA_BLOCK, 0x0);
	assert_int_equal(NVT_NVME_SGL_TYPE_KEYED_DATA_BLOCK, 0x4);
	assert_int_equal(NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK, 0x5);
	assert_int_equal(NVT_NVME_SGL_SUBTYPE_OFFSET, 0x1);
	assert_int_equal(NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0xa);

	assert_string_equal(NVT_NVMF_DISCOVERY_NQN, "nqn.2014-08.org.nvmexpress.discovery");
	assert_int_equal(NVT_NVMF_NQN_MAX_LEN, 223);
	assert_int_equal(NVT_NVME_VS_1_3, 0x00010300);
	assert_int_equal(NVT_NVME_VS_2_0, 0x00020000);
}

static void
test_status_helpers(void **state)
{
	struct nvt_nvme_status st = { .sct = NVT_NVME_SCT_GENERIC,
				      .sc = NVT_NVME_SC_INVALID_FIELD,
				      .dnr = true };
	struct nvt_nvme_cpl cpl;
	uint8_t raw[16] = { 0 };
	uint16_t w;

	(void)state;
	/* Invalid Field in Command with DNR: SC 02h at bits 8:1, DNR bit 15 (P is bit 0) */
	w = nvt_nvme_status_encode(&st);
	assert_int_equal(w, 0x8004);
	assert_int_equal(nvt_nvme_status_sc(w), NVT_NVME_SC_INVALID_FIELD);
	assert_int_equal(nvt_nvme_status_sct(w), NVT_NVME_SCT_GENERIC);
	assert_true(nvt_nvme_status_dnr(w));
	assert_false(nvt_nvme_status_more(w));
	assert_false(nvt_nvme_status_phase(w));

	/* Connect Invalid Host: SCT 1, SC 84h, no DNR */
	w = nvt_nvme_status_make(NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_CONNECT_INVALID_HOST,
				 false);
	assert_int_equal(w, (0x84 << 1) | (1 << 9));
	st = nvt_nvme_status_decode(w);
	assert_int_equal(st.sct, 1);
	assert_int_equal(st.sc, 0x84);
	assert_false(st.dnr);

	/* CRD, M and P decoded from a raw CQE: bytes 14-15 little-endian */
	raw[12] = 0x34;
	raw[13] = 0x12;
	/* P 1, SC 81h, SCT 2, CRD 1, M 1, DNR 0: 0x5503 */
	raw[14] = 0x03;
	raw[15] = 0x55;
	memcpy(&cpl, raw, sizeof(cpl));
	assert_int_equal(cpl.cid, 0x1234);
	assert_int_equal(nvt_nvme_status_sc(cpl.status), 0x81);
	assert_int_equal(nvt_nvme_status_sct(cpl.status), NVT_NVME_SCT_MEDIA_ERROR);
	assert_int_equal(nvt_nvme_status_crd(cpl.status), 1);
	assert_true(nvt_nvme_status_more(cpl.status));
	assert_false(nvt_nvme_status_dnr(cpl.status));
	assert_true(nvt_nvme_status_phase(cpl.status));
	assert_true(nvt_nvme_cpl_is_error(&cpl));
	cpl.status = NVT_NVME_STATUS_P;
	assert_false(nvt_nvme_cpl_is_error(&cpl));
}

static void
test_sgl_helpers(void **state)
{
	union nvt_nvme_sgl_desc sgl;
	uint8_t raw[16] = { 0 };

	(void)state;
	/* NVMe/TCP: in-capsule data is data block + offset (01h), else transport (5Ah) */
	assert_int_equal(nvt_nvme_sgl_id(NVT_NVME_SGL_TYPE_DATA_BLOCK, NVT_NVME_SGL_SUBTYPE_OFFSET),
			 0x01);
	assert_int_equal(nvt_nvme_sgl_id(NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_TRANSPORT),
			 0x5a);
	nvt_nvme_sgl_set_unkeyed(&sgl, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 8192);
	assert_int_equal(sgl.raw[15], 0x5a);
	assert_int_equal(nvt_nvme_sgl_get_type(&sgl), NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK);
	assert_int_equal(nvt_nvme_sgl_get_subtype(&sgl), NVT_NVME_SGL_SUBTYPE_TRANSPORT);
	assert_int_equal(sgl.raw[8], 0x00);
	assert_int_equal(sgl.raw[9], 0x20);

	/* Keyed: length 24 bits at byte 8, key 32 bits at byte 11 */
	raw[8] = 0x56;
	raw[9] = 0x34;
	raw[10] = 0x12;
	raw[11] = 0xef;
	raw[12] = 0xbe;
	raw[13] = 0xad;
	raw[14] = 0xde;
	raw[15] = 0x40;
	memcpy(&sgl, raw, sizeof(sgl));
	assert_int_equal(nvt_nvme_sgl_get_type(&sgl), NVT_NVME_SGL_TYPE_KEYED_DATA_BLOCK);
	assert_int_equal(nvt_nvme_sgl_keyed_length(&sgl), 0x123456);
	assert_int_equal(nvt_nvme_sgl_keyed_key(&sgl), 0xdeadbeef);
}

static void
test_cmd_helpers(void **state)
{
	struct nvt_nvme_cmd cmd;

	(void)state;
	memset(&cmd, 0, sizeof(cmd));
	cmd.flags = 0x40 | NVT_NVME_CMD_FUSE_FIRST;
	assert_int_equal(nvt_nvme_cmd_psdt(&cmd), NVT_NVME_PSDT_SGL_MPTR_CONTIG);
	assert_int_equal(nvt_nvme_cmd_fuse(&cmd), NVT_NVME_CMD_FUSE_FIRST);

	nvt_nvme_rw_set(&cmd, 0x123456789aull, 8);
	cmd.cdw12 |= NVT_NVME_RW_FUA;
	assert_int_equal(cmd.cdw10, 0x3456789a);
	assert_int_equal(cmd.cdw11, 0x12);
	assert_int_equal(cmd.cdw12 & 0xffff, 7);
	assert_int_equal(nvt_nvme_rw_slba(&cmd), 0x123456789aull);
	assert_int_equal(nvt_nvme_rw_nlb(&cmd), 8);
	assert_int_equal(nvt_nvme_cmd_cdw(&cmd, 10), cmd.cdw10);
	assert_int_equal(nvt_nvme_cmd_cdw(&cmd, 12), cmd.cdw12);
	assert_true(cmd.cdw12 & (1u << 30));

	/* Identify CNS 01h for controller 5, CSI 0 */
	cmd.cdw10 = 0x00050001;
	cmd.cdw11 = 0;
	assert_int_equal(nvt_nvme_identify_cns(&cmd), NVT_NVME_CNS_CTRL);
	assert_int_equal(nvt_nvme_identify_cntid(&cmd), 5);
	assert_int_equal(nvt_nvme_identify_csi(&cmd), NVT_NVME_CSI_NVM);

	/* Get Log Page 70h, 1024 bytes (NUMDL 255), RAE, offset 4096 */
	cmd.cdw10 = (255u << 16) | (1u << 15) | NVT_NVME_LOG_DISCOVERY;
	cmd.cdw11 = 0;
	cmd.cdw12 = 4096;
	cmd.cdw13 = 0;
	assert_int_equal(nvt_nvme_get_log_lid(&cmd), NVT_NVME_LOG_DISCOVERY);
	assert_true(nvt_nvme_get_log_rae(&cmd));
	assert_int_equal(nvt_nvme_get_log_len(&cmd), 1024);
	assert_int_equal(nvt_nvme_get_log_offset(&cmd), 4096);
	cmd.cdw11 = 1; /* NUMDU: 0x1ffff dwords + 1 */
	assert_int_equal(nvt_nvme_get_log_len(&cmd), (0x100ffull + 1) * 4);

	/* Set Features, number of queues: 4 SQs and 2 CQs asked (0's based) */
	cmd.cdw10 = NVT_NVME_FEAT_NUMBER_OF_QUEUES | (1u << 31);
	cmd.cdw11 = nvt_nvme_feat_num_queues(3, 1);
	assert_int_equal(nvt_nvme_feat_fid(&cmd), NVT_NVME_FEAT_NUMBER_OF_QUEUES);
	assert_true(nvt_nvme_feat_sv(&cmd));
	assert_int_equal(cmd.cdw11, 0x00010003);
	assert_int_equal(nvt_nvme_feat_num_queues_nsq(cmd.cdw11), 3);
	assert_int_equal(nvt_nvme_feat_num_queues_ncq(cmd.cdw11), 1);

	cmd.cdw10 = (0x1234u << 16) | 2;
	assert_int_equal(nvt_nvme_abort_sqid(&cmd), 2);
	assert_int_equal(nvt_nvme_abort_cid(&cmd), 0x1234);

	cmd.cdw10 = 255;
	assert_int_equal(nvt_nvme_dsm_nr(&cmd), 256);

	assert_int_equal(nvt_nvme_opc_data_xfer(NVT_NVME_OPC_WRITE),
			 NVT_NVME_DATA_HOST_TO_CONTROLLER);
	assert_int_equal(nvt_nvme_opc_data_xfer(NVT_NVME_OPC_READ),
			 NVT_NVME_DATA_CONTROLLER_TO_HOST);
	assert_int_equal(nvt_nvme_opc_data_xfer(NVT_NVMF_FCTYPE_CONNECT),
			 NVT_NVME_DATA_HOST_TO_CONTROLLER);
}

static void
test_register_helpers(void **state)
{
	uint64_t cap = 0;
	uint32_t cc;

	(void)state;
	/* What the Linux host writes first: CC = 0x460060 (IOSQES 6, IOCQES 4, CSS 6) */
	cc = 0x460060;
	assert_int_equal(nvt_nvme_reg32_get(cc, NVT_NVME_CC_IOSQES_SHIFT, NVT_NVME_CC_IOSQES_MASK),
			 6);
	assert_int_equal(nvt_nvme_reg32_get(cc, NVT_NVME_CC_IOCQES_SHIFT, NVT_NVME_CC_IOCQES_MASK),
			 4);
	assert_int_equal(nvt_nvme_reg32_get(cc, NVT_NVME_CC_CSS_SHIFT, NVT_NVME_CC_CSS_MASK),
			 NVT_NVME_CC_CSS_IOCS);
	assert_int_equal(cc & NVT_NVME_CC_EN, 0);
	/* ...then a normal shutdown: 0x464061 */
	cc = nvt_nvme_reg32_set(cc | NVT_NVME_CC_EN, NVT_NVME_CC_SHN_SHIFT, NVT_NVME_CC_SHN_MASK,
				NVT_NVME_SHN_NORMAL);
	assert_int_equal(cc, 0x464061);
	assert_int_equal(nvt_nvme_reg32_set(0, NVT_NVME_CSTS_SHST_SHIFT, NVT_NVME_CSTS_SHST_MASK,
					    NVT_NVME_SHST_COMPLETE) |
				 NVT_NVME_CSTS_RDY,
			 0x9);

	cap = nvt_nvme_cap_set(cap, NVT_NVME_CAP_MQES_SHIFT, NVT_NVME_CAP_MQES_MASK, 127);
	cap = nvt_nvme_cap_set(cap, NVT_NVME_CAP_TO_SHIFT, NVT_NVME_CAP_TO_MASK, 30);
	cap = nvt_nvme_cap_set(cap, NVT_NVME_CAP_CSS_SHIFT, NVT_NVME_CAP_CSS_MASK,
			       NVT_NVME_CAP_CSS_NVM | NVT_NVME_CAP_CSS_IOCSS);
	cap |= NVT_NVME_CAP_CQR;
	assert_int_equal(cap, 0x0000082000000000ull | (30ull << 24) | (1ull << 16) | 127);
	assert_int_equal(nvt_nvme_cap_get(cap, NVT_NVME_CAP_TO_SHIFT, NVT_NVME_CAP_TO_MASK), 30);
	assert_int_equal(nvt_nvme_cap_get(cap, NVT_NVME_CAP_MPSMIN_SHIFT, NVT_NVME_CAP_MPSMIN_MASK),
			 0);

	assert_int_equal(nvt_nvme_qes(6, 6), 0x66);
	assert_int_equal(nvt_nvme_qes(4, 4), 0x44);
}

static void
test_fabrics_helpers(void **state)
{
	struct nvt_nvme_cpl cpl;
	uint64_t buf[2048 / sizeof(uint64_t)];
	struct nvt_nvmf_disc_log_hdr *hdr = (struct nvt_nvmf_disc_log_hdr *)(void *)buf;

	(void)state;
	memset(&cpl, 0, sizeof(cpl));
	cpl.cdw0 = nvt_nvmf_connect_rsp_success(7, 0);
	assert_int_equal(nvt_nvmf_connect_rsp_cntlid(&cpl), 7);
	/* Invalid parameter at connect data offset 256 (SUBNQN): IATTR 1, IPO 256 */
	assert_int_equal(nvt_nvmf_connect_rsp_invalid(NVT_NVMF_CONNECT_IATTR_DATA, 256), 0x10100);

	nvt_nvmf_prop_get_rsp_set(&cpl, 0x0123456789abcdefull);
	assert_int_equal(cpl.cdw0, 0x89abcdef);
	assert_int_equal(cpl.cdw1, 0x01234567);
	assert_int_equal(nvt_nvmf_prop_get_rsp_value(&cpl), 0x0123456789abcdefull);
	assert_int_equal(nvt_nvmf_prop_size(NVT_NVMF_PROP_SIZE_8), 8);
	assert_int_equal(nvt_nvmf_prop_size(NVT_NVMF_PROP_SIZE_4), 4);

	assert_ptr_equal(nvt_nvmf_disc_log_get_entry(hdr, 1), (uint8_t *)buf + 2048);

	assert_int_equal(nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE,
					   NVT_NVME_AER_INFO_NOTICE_DISCOVERY_LOG_CHANGE,
					   NVT_NVME_LOG_DISCOVERY),
			 0x0070f002);
	assert_int_equal(nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE,
					   NVT_NVME_AER_INFO_NOTICE_NS_ATTR_CHANGED,
					   NVT_NVME_LOG_CHANGED_NS_LIST),
			 0x00040002);
}

static void
test_id_ns_helpers(void **state)
{
	static struct nvt_nvme_id_ns ns;

	(void)state;
	ns.nlbaf = 1;
	ns.lbaf[0].lbads = 9;
	ns.lbaf[1].lbads = 12;
	ns.flbas = 1;
	assert_int_equal(nvt_nvme_id_ns_block_size(&ns), 4096);
	ns.flbas = NVT_NVME_FLBAS_EXTENDED;
	assert_int_equal(nvt_nvme_id_ns_block_size(&ns), 512);
	/* Format index 17: low bits 1, high bits (17 >> 4) = 1 in bits 6:5 */
	assert_int_equal(nvt_nvme_flbas_index(0x21), 17);
}

static void
test_tcp_helpers(void **state)
{
	struct nvt_nvme_tcp_common_hdr ch;
	struct nvt_nvme_tcp_term_req term;

	(void)state;
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(NVT_NVME_TCP_PDU_IC_REQ), 128);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(NVT_NVME_TCP_PDU_IC_RESP), 128);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(NVT_NVME_TCP_PDU_H2C_TERM_REQ), 24);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(NVT_NVME_TCP_PDU_CAPSULE_CMD), 72);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(NVT_NVME_TCP_PDU_CAPSULE_RESP), 24);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(NVT_NVME_TCP_PDU_H2C_DATA), 24);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(NVT_NVME_TCP_PDU_R2T), 24);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(0x08), 0);
	assert_int_equal(nvt_nvme_tcp_pdu_hlen(0x0a), 0);
	assert_false(nvt_nvme_tcp_pdu_type_has_digests(NVT_NVME_TCP_PDU_IC_REQ));
	assert_false(nvt_nvme_tcp_pdu_type_has_digests(NVT_NVME_TCP_PDU_C2H_TERM_REQ));
	assert_true(nvt_nvme_tcp_pdu_type_has_digests(NVT_NVME_TCP_PDU_CAPSULE_CMD));
	assert_true(nvt_nvme_tcp_pdu_type_has_digests(NVT_NVME_TCP_PDU_R2T));
	assert_false(nvt_nvme_tcp_pdu_type_has_digests(0x08));

	/* Data alignment: CPDA 0 = 4 bytes, 31 = 128 bytes */
	assert_int_equal(nvt_nvme_tcp_pda_bytes(0), 4);
	assert_int_equal(nvt_nvme_tcp_pda_bytes(NVT_NVME_TCP_PDA_MAX), 128);
	assert_int_equal(nvt_nvme_tcp_pdo(72, false, 0), 72);
	assert_int_equal(nvt_nvme_tcp_pdo(24, true, 0), 28);
	assert_int_equal(nvt_nvme_tcp_pdo(24, true, 7), 32);
	assert_int_equal(nvt_nvme_tcp_pdo(72, true, 31), 128);

	/* C2HData with both digests: 24 + 4 header, 4096 data, 4 data digest */
	memset(&ch, 0, sizeof(ch));
	ch.type = NVT_NVME_TCP_PDU_C2H_DATA;
	ch.flags = NVT_NVME_TCP_F_HDGSTF | NVT_NVME_TCP_F_DDGSTF | NVT_NVME_TCP_F_LAST_PDU;
	ch.hlen = 24;
	ch.pdo = 28;
	ch.plen = 28 + 4096 + 4;
	assert_int_equal(nvt_nvme_tcp_hdgst_len(&ch), 4);
	assert_int_equal(nvt_nvme_tcp_ddgst_len(&ch), 4);
	assert_int_equal(nvt_nvme_tcp_data_len(&ch), 4096);
	ch.plen = 30;
	assert_int_equal(nvt_nvme_tcp_data_len(&ch), 0);
	ch.pdo = 0;
	assert_int_equal(nvt_nvme_tcp_data_len(&ch), 0);

	/* FEI is 32 bits at byte offset 10 */
	memset(&term, 0, sizeof(term));
	nvt_nvme_tcp_term_req_set_fei(&term, 0x0a0b0c0d);
	assert_int_equal(((uint8_t *)&term)[10], 0x0d);
	assert_int_equal(((uint8_t *)&term)[13], 0x0a);
	assert_int_equal(nvt_nvme_tcp_term_req_fei(&term), 0x0a0b0c0d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqe_cqe_layout),	cmocka_unit_test(test_id_ctrl_layout),
		cmocka_unit_test(test_id_ns_layout),	cmocka_unit_test(test_log_page_layout),
		cmocka_unit_test(test_fabrics_layout),	cmocka_unit_test(test_discovery_layout),
		cmocka_unit_test(test_tcp_layout),	cmocka_unit_test(test_spec_values),
		cmocka_unit_test(test_status_helpers),	cmocka_unit_test(test_sgl_helpers),
		cmocka_unit_test(test_cmd_helpers),	cmocka_unit_test(test_register_helpers),
		cmocka_unit_test(test_fabrics_helpers), cmocka_unit_test(test_id_ns_helpers),
		cmocka_unit_test(test_tcp_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
